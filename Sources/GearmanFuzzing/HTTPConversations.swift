/// HTTP requests for gearmand's HTTP protocol, the corpus the mutator starts from when the HTTP port is
/// fuzzed: jobs with and without bodies, the X-Gearman headers, keep-alive, pipelining, chunked bodies.
public enum HTTPConversations {
    public static let all: [[UInt8]] = [
        "POST /reverse HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "POST /reverse HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
        "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n",
        "HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n",
        "PUT /logger HTTP/1.1\r\nX-Gearman-Background: true\r\nX-Gearman-Priority: high\r\nContent-Length: 4\r\n\r\nline",
        "POST /echo HTTP/1.1\r\nX-Gearman-Unique: k1\r\nX-Gearman-Priority: low\r\nContent-Length: 1\r\n\r\nx",
        "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nabPOST /reverse HTTP/1.1\r\nContent-Length: 2\r\n\r\ncd",
        "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "DELETE /echo HTTP/1.1\r\n\r\n",
        "POST /%2e%2e%2fecho%zz HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        "POST /sleep HTTP/1.1\r\nContent-Length: 4294967296\r\n\r\n0",
    ].map { Array($0.utf8) }
}
