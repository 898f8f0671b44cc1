import Foundation
import Imaging
import Testing
import UploadFront

/// The options of `/photos/ID/image` without HTTP: one normalized form per meaning, signatures over it, the
/// size limits and the key every front computes alike.
@Suite struct TransformRequestTests {
    @Test func everySpellingOfTheSameOptionsHasOneNormalizedFormAndKey() throws {
        let spellings = [
            "size=300x200&crop=centre&quality=80",
            "quality=80&crop=center&size=300x200",
            "crop=centre&size=300x200&quality=80&strip=true&rotate=true",
            "size=300x200&crop=CENTRE&quality=80&s=abc&e=123",
        ]
        let forms = Set(try spellings.map { try TransformRequest(query: $0).normalizedQuery })
        #expect(forms == ["crop=centre&quality=80&size=300x200&strip=true"])
        let keys = Set(
            try spellings.map {
                TransformRequest.key(
                    function: "thumbnail", photo: "p1", options: try TransformRequest(query: $0).resolved(format: .jpeg)
                )
            })
        #expect(keys.count == 1)
        let key = try #require(keys.first)
        #expect(key.count == 64 && key.allSatisfy { $0.isHexDigit && !$0.isUppercase })

        let request = try TransformRequest(query: spellings[3])
        #expect(request.signature == "abc" && request.expires == "123" && !request.namesFormat)
        // The format, the photo and the function each make another result.
        let options = request.resolved(format: .jpeg)
        #expect(
            TransformRequest.key(function: "thumbnail", photo: "p1", options: request.resolved(format: .webp)) != key)
        #expect(TransformRequest.key(function: "thumbnail", photo: "p2", options: options) != key)
        #expect(TransformRequest.key(function: "resize", photo: "p1", options: options) != key)
        #expect(try TransformRequest(query: "size=300x200&format=png").resolved(format: .jpeg).output.format == .png)
    }

    @Test func unknownOptionsAndBadValuesAreRefusedWithTheirName() {
        #expect(throws: ImagingError.self) { try TransformRequest(query: "size=200&blur=3") }
        #expect(throws: ImagingError.self) { try TransformRequest(query: "size=200&size=300") }
        #expect(throws: ImagingError.self) { try TransformRequest(query: "size=wide") }
        #expect(throws: ImagingError.self) { try TransformRequest(query: "format=bmp") }
    }

    @Test func aSignatureOverTheNormalizedOptionsVerifiesForAnyOrderAndNothingElse() throws {
        let signer = try URLSigner(keys: ["request-test-key-0123456789abcdef-0123"])
        let path = "/photos/abc/image"
        let signed = signer.sign(path, options: try TransformRequest(query: "size=64&crop=attention").normalizedQuery)
        let signature = try TransformRequest(query: String(signed.split(separator: "?")[1])).signature
        for query in ["crop=attention&size=64", "size=64x64&crop=attention&strip"] {
            let normalized = try TransformRequest(query: query).normalizedQuery
            #expect(throws: Never.self) {
                try signer.verify(path, options: normalized, expires: nil, signature: signature)
            }
        }
        let other = try TransformRequest(query: "size=65&crop=attention").normalizedQuery
        #expect(throws: URLSigner.Refusal.wrong) {
            try signer.verify(path, options: other, expires: nil, signature: signature)
        }
        #expect(throws: URLSigner.Refusal.wrong) {
            try signer.verify(path, expires: nil, signature: signature)
        }
        // Without options, a URL signs as it always did.
        #expect(signer.sign("/photos/abc/small") == signer.sign("/photos/abc/small", options: ""))
    }

    @Test func hugeSizesAreRefusedBeforeAnyJob() throws {
        func check(_ query: String) throws {
            try TransformRequest(query: query).checkSize(maxDimension: 8192, maxMegapixels: 50)
        }
        #expect(throws: Never.self) { try check("size=8192x6000") }
        #expect(throws: Never.self) { try check("size=x8192") }
        #expect(throws: FrontError.self) { try check("size=8193x10") }
        #expect(throws: FrontError.self) { try check("size=x9000") }
        #expect(throws: FrontError.self) { try check("size=8000x8000") }
    }
}
