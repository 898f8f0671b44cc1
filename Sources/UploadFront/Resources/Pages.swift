import Imaging

/// The pages the front serves: plain HTML and a little JavaScript, no build step.
enum Pages {
    static let style = """
        body { font: 16px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
        h1 { font-size: 1.6rem; } h2 { font-size: 1.1rem; margin: 0 0 .5rem; word-break: break-all; }
        form { border: 2px dashed #999; padding: 1.5rem; border-radius: .5rem; margin-bottom: 1.5rem; }
        section.photo { border: 1px solid #ddd; border-radius: .5rem; padding: 1rem; margin-bottom: 1rem; }
        section.failed { border-color: #c33; background: #fff5f5; }
        progress { width: 100%; }
        .thumbs { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-end; }
        figure { margin: 0; } figure img { display: block; max-width: 320px; max-height: 240px; border: 1px solid #ccc; }
        figcaption, .status { font-size: .85rem; color: #555; } .error { color: #c33; }
        """

    static func upload(configuration: FrontConfiguration) -> String {
        let sizes = configuration.sizes
        let maxBytes = configuration.limits.maxInputBytes
        let list = sizes.map { "\($0.name) (\($0.size))" }.joined(separator: ", ")
        let names = sizes.map { "\"\($0.name)\"" }.joined(separator: ",")
        let formats = configuration.formats.map { "\"\($0.rawValue)\"" }.joined(separator: ",")
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Gearbox photo upload</title>
            <style>\(style)</style>
            </head>
            <body>
            <h1>Upload photos</h1>
            <p>Each photo becomes \(list.htmlEscaped), every size at once on the Gearman farm.
            Up to \(maxBytes / 1_000_000) MB a photo.</p>
            <form id="upload" action="/photos" method="post" enctype="multipart/form-data">
              <input id="files" type="file" name="photo" accept="image/*" multiple>
              <button type="submit">Upload</button>
            </form>
            <div id="photos"></div>
            <script>
            "use strict";
            const sizes = [\(names)];
            const modernFormats = [\(formats)];
            const form = document.getElementById("upload");
            const input = document.getElementById("files");
            const photos = document.getElementById("photos");

            form.addEventListener("submit", (event) => { event.preventDefault(); start(); });
            input.addEventListener("change", start);

            function start() {
              const files = Array.from(input.files);
              input.value = "";
              files.forEach(upload);
            }

            function element(tag, className, text) {
              const node = document.createElement(tag);
              if (className) node.className = className;
              if (text !== undefined) node.textContent = text;
              return node;
            }

            function upload(file) {
              const card = element("section", "photo");
              card.append(element("h2", "", file.name));
              const bar = element("progress"); bar.max = 100; bar.value = 0;
              const status = element("p", "status", "uploading\\u2026");
              const thumbs = element("div", "thumbs");
              card.append(bar, status, thumbs);
              photos.prepend(card);

              const data = new FormData();
              data.append("photo", file, file.name);
              const request = new XMLHttpRequest();
              request.open("POST", "/photos");
              request.setRequestHeader("Accept", "application/json");
              request.responseType = "json";
              request.upload.onprogress = (event) => {
                if (event.lengthComputable) bar.value = 100 * event.loaded / event.total;
              };
              request.upload.onload = () => { bar.value = 100; status.textContent = "resizing\\u2026"; };
              request.onload = () => show(card, status, thumbs, request.status, request.response);
              request.onerror = () => fail(card, status, "network error");
              request.send(data);
            }

            function fail(card, status, reason) {
              card.classList.add("failed");
              status.textContent = reason;
              status.classList.add("error");
            }

            function show(card, status, thumbs, code, body) {
              card.querySelector("progress").remove();
              if (!body) return fail(card, status, "HTTP " + code);
              if (body.error) return fail(card, status, body.error.reason + " (" + body.error.status + ")");
              const photo = body.photos[0];
              if (photo.error && !photo.sizes) return fail(card, status, photo.error);
              status.textContent = "done in " + Math.round(body.ms) + " ms" +
                (photo.original ? " \\u00b7 original " + photo.original.width + "\\u00d7" + photo.original.height : "");
              for (const name of sizes) {
                const size = (photo.sizes || {})[name];
                if (!size) continue;
                const figure = element("figure");
                if (size.error) {
                  figure.append(element("figcaption", "error", name + ": " + size.error));
                } else {
                  const picture = pictureFor(name, size);
                  const image = picture.querySelector("img");
                  image.addEventListener("load", () => figure.classList.add("loaded"));
                  const link = element("a");
                  link.href = size.url;
                  link.append(picture);
                  figure.append(link, element("figcaption", "",
                    name + " \\u00b7 " + size.width + "\\u00d7" + size.height + " \\u00b7 " +
                    Math.round(size.bytes / 1024) + " KB \\u00b7 " + Math.round(size.ms) + " ms"));
                }
                thumbs.append(figure);
              }
            }

            // <picture>: a <source> per modern format with every density in its srcset, and the fallback
            // format in the <img>; the browser picks the first type it can decode.
            function pictureFor(name, size) {
              const picture = element("picture");
              const byFormat = {};
              for (const variant of size.variants || []) {
                if (variant.url) (byFormat[variant.format] = byFormat[variant.format] || []).push(variant);
              }
              const srcset = (list) => list.map((v) => v.url + " " + v.density + "x").join(", ");
              for (const format of modernFormats) {
                if (!byFormat[format] || format === size.format) continue;
                const source = element("source");
                source.type = "image/" + format;
                source.srcset = srcset(byFormat[format]);
                picture.append(source);
              }
              const image = element("img", "thumb");
              image.alt = name;
              image.dataset.size = name;
              const fallback = byFormat[size.format] || [];
              const one = fallback.find((v) => v.density === 1);
              image.src = one ? one.url : size.url;
              if (fallback.length > 1) image.srcset = srcset(fallback);
              image.width = size.width;
              image.height = size.height;
              picture.append(image);
              return picture;
            }
            </script>
            </body>
            </html>
            """
    }

    /// What a browser sees after a plain form submission.
    static func result(_ result: UploadResult, sizes: [String], formats: [ImageFormat]) -> String {
        var body = ""
        for photo in result.photos {
            body += "<section class=\"photo\(photo.succeeded ? "" : " failed")\">\n"
            body += "<h2>\((photo.filename ?? photo.id ?? "photo").htmlEscaped)</h2>\n"
            if let error = photo.error {
                body += "<p class=\"error\">\(error.htmlEscaped)</p>\n"
            }
            body += "<div class=\"thumbs\">\n"
            for name in sizes {
                guard let size = photo.sizes[name] else { continue }
                if let error = size.error {
                    body += "<figure><figcaption class=\"error\">\(name): \(error.htmlEscaped)</figcaption></figure>\n"
                } else if let url = size.url {
                    body += """
                        <figure><a href="\(url.htmlEscaped)">\(picture(name: name, size: size, formats: formats))</a>
                        <figcaption>\(name) · \(size.width ?? 0)×\(size.height ?? 0) · \((size.bytes ?? 0) / 1024) KB · \(Int(size.ms ?? 0)) ms</figcaption></figure>

                        """
                }
            }
            body += "</div></section>\n"
        }
        return page(
            title: "Uploaded", body: body + "<p>Done in \(Int(result.ms)) ms. <a href=\"/\">Upload more</a></p>")
    }

    /// The server-rendered twin of the upload page's `pictureFor`.
    static func picture(name: String, size: PhotoResult.Image, formats: [ImageFormat]) -> String {
        let made = (size.variants ?? []).filter { $0.url != nil }
        func srcset(_ format: String) -> String {
            made.filter { $0.format == format }.map { "\($0.url!) \($0.density)x" }.joined(separator: ", ").htmlEscaped
        }
        var html = "<picture>"
        for format in formats
        where format.rawValue != size.format && made.contains(where: { $0.format == format.rawValue }) {
            html += "<source type=\"\(format.mimeType)\" srcset=\"\(srcset(format.rawValue))\">"
        }
        let fallback = made.first { $0.format == size.format && $0.density == 1 }?.url ?? size.url ?? ""
        html += "<img class=\"thumb\" src=\"\(fallback.htmlEscaped)\" srcset=\"\(srcset(size.format ?? ""))\""
        html += " width=\"\(size.width ?? 0)\" height=\"\(size.height ?? 0)\" alt=\"\(name.htmlEscaped)\"></picture>"
        return html
    }

    static func error(_ error: FrontError) -> String {
        page(
            title: "Upload failed",
            body: """
                <section class="photo failed"><h2>\(error.status.code) \(error.status.reasonPhrase.htmlEscaped)</h2>
                <p class="error">\(error.reason.htmlEscaped)</p>\(error.retryAfter.map { "<p>Try again in \($0) seconds.</p>" } ?? "")</section>
                <p><a href="/">Back to the upload page</a></p>
                """)
    }

    static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>\(title.htmlEscaped)</title><style>\(style)</style></head>
        <body>
        <h1>\(title.htmlEscaped)</h1>
        \(body)
        </body>
        </html>
        """
    }
}
