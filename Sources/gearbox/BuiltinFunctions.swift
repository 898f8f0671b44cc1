import Gearman
import NIOCore

/// Functions `gearbox worker` offers for tests and demonstrations.
enum BuiltinFunctions {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let all: [String: GearmanWorker.Function] = [
        "reverse": { job in ByteBuffer(bytes: job.workload.readableBytesView.reversed()) },
        "echo": { job in job.workload },
        "sleep": { job in
            let text = String(buffer: job.workload).trimmingWhitespace
            guard let seconds = Double(text), seconds >= 0 else {
                throw Failure(description: "sleep needs a number of seconds, got \"\(text)\"")
            }
            // Progress in milliseconds, from the moment the job starts: a caller that streams the job
            // knows it is running, and how far it has come, each second.
            let total = Int64((seconds * 1000).rounded())
            let started = ContinuousClock.now
            var elapsed: Int64 = 0
            while true {
                try await job.sendStatus(numerator: UInt32(clamping: elapsed), denominator: UInt32(clamping: total))
                guard elapsed < total else { return job.workload }
                try await Task.sleep(until: started + .milliseconds(min(elapsed + 1000, total)))
                elapsed = min(elapsed + 1000, total)
            }
        },
        "fail": { _ in throw GearmanWorkFailure() },
        "exception": { job in throw Failure(description: String(buffer: job.workload)) },
    ]
}

extension String {
    var trimmingWhitespace: String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
