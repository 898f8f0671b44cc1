import GearmanServer

/// One receiving URL and the functions whose events it gets, from every hook that names it: an event that two
/// hooks of one URL match is sent there once.
struct WebhookTarget: Sendable {
    let url: String
    /// nil: every function.
    private(set) var functions: Set<String>?

    /// One target per distinct URL, in the order the URLs first appear.
    static func targets(for hooks: [Webhook]) -> [WebhookTarget] {
        var targets: [WebhookTarget] = []
        var indexByURL: [String: Int] = [:]
        for hook in hooks {
            guard let index = indexByURL[hook.url] else {
                indexByURL[hook.url] = targets.count
                targets.append(WebhookTarget(url: hook.url, functions: hook.function.map { [$0] }))
                continue
            }
            if let function = hook.function {
                targets[index].functions?.insert(function)
            } else {
                targets[index].functions = nil
            }
        }
        return targets
    }

    func accepts(_ event: JobEvent) -> Bool {
        functions?.contains(event.function) ?? true
    }
}
