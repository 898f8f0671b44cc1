import Foundation
import GearmanServer

/// `GET /api/jobs/{handle}`'s answer: a `JobReport` as JSON. Every answer has every key, `null` where the
/// job has no such thing (no error yet, no due time, no kept result). `result_bytes` is the kept result's
/// size; `result_base64` the result itself while it is at most `inlineResultLimit` bytes, `null` above that
/// (`/api/jobs/{handle}/result` serves it raw whatever its size).
struct JobStatusBody: Encodable {
    static let inlineResultLimit = 1 << 20

    let report: JobReport

    enum CodingKeys: String, CodingKey {
        case handle, function, unique, state, attempts, due, completed, expires
        case lastError = "last_error"
        case resultBytes = "result_bytes"
        case resultBase64 = "result_base64"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(report.handle, forKey: .handle)
        try container.encode(report.function, forKey: .function)
        try container.encode(report.unique, forKey: .unique)
        try container.encode(report.state, forKey: .state)
        try container.encode(report.attempts, forKey: .attempts)
        try container.encode(report.lastError, forKey: .lastError)
        try container.encode(report.due, forKey: .due)
        try container.encode(report.completed, forKey: .completed)
        try container.encode(report.expires, forKey: .expires)
        try container.encode(report.result?.readableBytes, forKey: .resultBytes)
        let inline = report.result.flatMap { $0.readableBytes <= Self.inlineResultLimit ? $0 : nil }
        try container.encode(inline.map { Data($0.readableBytesView).base64EncodedString() }, forKey: .resultBase64)
    }
}
