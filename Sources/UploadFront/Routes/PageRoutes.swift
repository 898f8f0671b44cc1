import Hummingbird

/// `GET /`: the upload page.
struct PageRoutes: Sendable {
    let configuration: FrontConfiguration

    func register(on router: Router<some RequestContext>) {
        let page = Pages.upload(configuration: configuration)
        router.get("/") { _, _ in Responses.html(page, headers: [.cacheControl: "no-cache"]) }
    }
}
