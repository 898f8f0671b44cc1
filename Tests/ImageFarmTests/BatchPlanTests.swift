import Foundation
import ImageFarm
import Imaging
import TestSupport
import Testing

@Suite struct BatchPlanTests {
    let small = try! ImageSize(parsing: "200x150")
    let large = try! ImageSize(parsing: "640x480")

    @Test func sizesBecomeFileNameLabels() throws {
        #expect(BatchPlan.label(for: small) == "200x150")
        #expect(BatchPlan.label(for: try ImageSize(parsing: "200x")) == "200x")
        #expect(BatchPlan.label(for: try ImageSize(parsing: "x150")) == "x150")
        #expect(BatchPlan.label(for: try ImageSize(parsing: "128")) == "128x128")
        #expect(BatchPlan.label(for: try ImageSize(parsing: "200x150>")) == "200x150-shrink")
        #expect(BatchPlan.label(for: try ImageSize(parsing: "200x150!")) == "200x150-exact")
    }

    @Test func outputPathsMirrorTheInputFolders() {
        #expect(
            BatchPlan.outputPath(for: "2024/beach/sunset.jpg", size: small, format: .jpeg, outputRoot: "out")
                == "out/2024/beach/sunset_200x150.jpg")
        #expect(
            BatchPlan.outputPath(for: "a.b.PNG", size: large, format: .webp, outputRoot: "/tmp/o/")
                == "/tmp/o/a.b_640x480.webp")
        #expect(BatchPlan.outputPath(for: "noext", size: small, format: .png, outputRoot: "o") == "o/noext_200x150.png")
    }

    @Test func imagesAreRecognisedByExtension() {
        #expect(BatchPlan.imageFormat(ofName: "x/IMG_0001.JPG") == .jpeg)
        #expect(BatchPlan.imageFormat(ofName: "scan.tiff") == .tiff)
        #expect(BatchPlan.imageFormat(ofName: "phone.heic") == .heif)
        #expect(BatchPlan.imageFormat(ofName: "notes.txt") == nil)
        #expect(BatchPlan.imageFormat(ofName: ".jpg") == nil)
        #expect(BatchPlan.imageFormat(ofName: "README") == nil)
    }

    @Test func theWalkFindsImagesRecursivelyLargestFirst() throws {
        let scratch = try ScratchFolder()
        try scratch.file("in/a.jpg", [UInt8](repeating: 1, count: 10))
        try scratch.file("in/sub/deeper/b.png", [UInt8](repeating: 1, count: 30))
        try scratch.file("in/sub/c.tif", [UInt8](repeating: 1, count: 20))
        try scratch.file("in/notes.txt")
        try scratch.file("in/.hidden.jpg")
        try scratch.file("in/.cache/d.jpg")
        // Thumbnails of an earlier run inside the input folder are not inputs.
        try scratch.file("in/thumbs/a_200x150.jpg")

        let plan = try BatchPlan.make(
            input: scratch.path + "/in", output: scratch.path + "/in/thumbs", sizes: [small, large])
        #expect(plan.photos.map(\.relativePath) == ["sub/deeper/b.png", "sub/c.tif", "a.jpg"])
        #expect(plan.totalBytes == 60)
        // thumbs/a_200x150.jpg was written after a.jpg: up to date.
        #expect(plan.pendingOutputs == 5)
        let b = plan.photos[0]
        #expect(b.format == .png)
        #expect(
            b.outputs.map(\.path) == [
                scratch.path + "/in/thumbs/sub/deeper/b_200x150.png",
                scratch.path + "/in/thumbs/sub/deeper/b_640x480.png",
            ])
        // TIFF cannot be written: its thumbnails are JPEG.
        #expect(plan.photos[1].outputs[0].path.hasSuffix("sub/c_200x150.jpg"))

        let webp = try BatchPlan.make(
            input: scratch.path + "/in", output: scratch.path + "/o", sizes: [small], format: .webp)
        #expect(webp.photos.allSatisfy { $0.format == .webp && $0.outputs[0].path.hasSuffix(".webp") })
    }

    @Test func outputsNewerThanTheirInputAreUpToDate() throws {
        let scratch = try ScratchFolder()
        try scratch.file("in/a.jpg")
        try scratch.file("in/b.jpg")
        try scratch.file("out/a_200x150.jpg")
        try scratch.file("out/b_200x150.jpg")
        try scratch.file("out/b_640x480.jpg", [])  // empty: a broken earlier write
        let past = Date(timeIntervalSinceNow: -3600)
        try scratch.setModified("in/a.jpg", past)
        try scratch.setModified("in/b.jpg", past)
        try scratch.setModified("out/b_200x150.jpg", past.addingTimeInterval(-60))  // older than its input

        let plan = try BatchPlan.make(
            input: scratch.path + "/in", output: scratch.path + "/out", sizes: [small, large])
        let a = try #require(plan.photos.first { $0.relativePath == "a.jpg" })
        let b = try #require(plan.photos.first { $0.relativePath == "b.jpg" })
        #expect(a.outputs.map(\.isUpToDate) == [true, false])
        #expect(b.outputs.map(\.isUpToDate) == [false, false])
        #expect(plan.pendingOutputs == 3)
    }

    @Test func badPlansAreRefusedWithAReason() throws {
        let scratch = try ScratchFolder()
        #expect(throws: BatchError.invalid("\(scratch.path)/missing is not a folder")) {
            try BatchPlan.make(input: scratch.path + "/missing", output: scratch.path + "/o", sizes: [small])
        }
        #expect(throws: BatchError.invalid("size 200x150 is given twice")) {
            try BatchPlan.make(input: scratch.path, output: scratch.path + "/o", sizes: [small, small])
        }
        #expect(throws: BatchError.invalid("cannot write TIFF; use jpeg, png, webp, avif or gif")) {
            try BatchPlan.make(input: scratch.path, output: scratch.path + "/o", sizes: [small], format: .tiff)
        }
    }
}

@Suite struct BatchProgressTests {
    func photo(_ name: String, bytes: Int = 100) -> BatchPlan.Photo {
        let plan = BatchPlan.Photo(
            path: "/in/" + name, relativePath: name, byteCount: bytes, format: .jpeg,
            outputs: [BatchPlan.Output(size: try! ImageSize(parsing: "200x150"), path: "/out/x")])
        return plan
    }

    @Test func theBarShowsProgressRateAndETA() {
        let half = BatchProgress.bar(
            photosDone: 6, totalPhotos: 12, bytesDone: 500, totalBytes: 1000, elapsed: 2, width: 10)
        #expect(half == "[#####-----]  50%  6/12 photos  3.0 photos/s  ETA 0:02")
        let done = BatchProgress.bar(
            photosDone: 12, totalPhotos: 12, bytesDone: 1000, totalBytes: 1000, failures: 1, elapsed: 4.2, width: 10)
        #expect(done == "[##########] 100%  12/12 photos  2.9 photos/s  4.20 s  1 failed")
        let start = BatchProgress.bar(photosDone: 0, totalPhotos: 3, bytesDone: 0, totalBytes: 10, elapsed: 0, width: 4)
        #expect(start == "[----]   0%  0/3 photos  0.0 photos/s")
        #expect(BatchProgress.eta(0.2) == "0:01")
        #expect(BatchProgress.eta(754) == "12:34")
        #expect(BatchProgress.eta(3723) == "1:02:03")
    }

    @Test func linesSayWhatHappenedToEachFile() {
        var ok = BatchPhotoResult(photo: photo("a/b.jpg"))
        ok.written = ["/out/a/b_200x150.jpg", "/out/a/b_640x480.jpg"]
        #expect(BatchProgress.line(for: ok) == "ok   a/b.jpg (2 thumbnails)")
        var skipped = BatchPhotoResult(photo: photo("c.jpg"))
        skipped.upToDate = 1
        #expect(BatchProgress.line(for: skipped) == "skip c.jpg (up to date)")
        var failed = BatchPhotoResult(photo: photo("bad.jpg"))
        failed.failures = [
            BatchFailure(file: "bad.jpg", size: try! ImageSize(parsing: "200x150"), reason: "truncated JPEG")
        ]
        #expect(BatchProgress.line(for: failed) == "FAIL bad.jpg: [200x150] truncated JPEG")
    }

    @Test func linesModeWritesOneLinePerPhotoAndNoneWritesNothing() {
        let collected = Collected()
        let lines = BatchProgress(style: .lines, totalPhotos: 2, totalBytes: 200) { collected.append($0) }
        var result = BatchPhotoResult(photo: photo("a.jpg"))
        result.written = ["/out/a_200x150.jpg"]
        lines.photoFinished(result)
        lines.finish()
        #expect(collected.text == "ok   a.jpg (1 thumbnail)\n")
        let quiet = Collected()
        let none = BatchProgress(style: .none, totalPhotos: 2, totalBytes: 200) { quiet.append($0) }
        none.photoFinished(result)
        none.finish()
        #expect(quiet.text == "")
        #expect(BatchProgress.Style.automatic(isTerminal: true) == .bar)
        #expect(BatchProgress.Style.automatic(isTerminal: false) == .lines)
    }

    @Test func theSummaryGivesTotalsFailuresAndTheExitStatus() {
        var summary = BatchSummary(
            photos: 3, sizes: [try! ImageSize(parsing: "200x150"), try! ImageSize(parsing: "640x480")])
        var good = BatchPhotoResult(photo: photo("a.jpg", bytes: 2_500_000))
        good.written = ["/o/a_200x150.jpg", "/o/a_640x480.jpg"]
        good.bytesIn = 2_500_000
        good.bytesOut = 48_000
        summary.add(good)
        var upToDate = BatchPhotoResult(photo: photo("b.jpg"))
        upToDate.upToDate = 2
        summary.add(upToDate)
        #expect(summary.exitStatus == 0)
        var bad = BatchPhotoResult(photo: photo("c.jpg"))
        bad.failures = [BatchFailure(file: "c.jpg", size: nil, reason: "not an image")]
        summary.add(bad)
        summary.seconds = 0.5
        #expect(summary.exitStatus == 1)
        #expect(
            summary.render(outputRoot: "out", farm: "embedded") == """
                Done.
                  files:      3 photos x 2 sizes (200x150, 640x480)
                  thumbnails: 2 written, 2 already up to date, 1 failed
                  bytes:      2.5 MB read, 48.0 KB written
                  time:       0.50 s (4.0 thumbnails/s)
                  farm:       embedded
                  output:     out
                Failures:
                  c.jpg: not an image

                """)
        summary.interrupted = true
        #expect(summary.exitStatus == 130)
        #expect(BatchSummary.duration(75) == "1:15")
        #expect(BatchSummary.bytes(999) == "999 B")
    }
}

final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String] = []
    func append(_ text: String) { lock.withLock { parts.append(text) } }
    var text: String { lock.withLock { parts.joined() } }
}
