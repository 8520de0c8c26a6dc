// The web console's routes (SPEC §12, decision 0015): GET /ui redirects to
// /ui/, GET /ui/ is index.html and GET /ui/<file> the other embedded files
// (console_assets.h). Public: the files hold no data; everything they show
// comes from the API with the browser's session cookie. With --ui false
// the Router leaves them out (RouteSpec::console), so their paths answer
// exactly like unknown ones.

#include <string>
#include <utility>

#include "server/console_assets.h"
#include "server/routes_util.h"

namespace acpstore::server {
namespace {

Response NoSuchRoute() {
  return ErrorResponse(Status::NotFound("no such route"));
}

// What every console answer carries, 304s and redirects included.
void AddConsoleHeaders(Response* r) {
  r->headers.emplace_back("Content-Security-Policy", std::string(kConsoleCsp));
  r->headers.emplace_back("X-Content-Type-Options", "nosniff");
  r->headers.emplace_back("Referrer-Policy", "no-referrer");
  r->headers.emplace_back("X-Frame-Options", "DENY");
  r->headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
}

void ServeFile(Call& call, std::string_view name) {
  const EmbeddedFile* file = FindConsoleFile(name);
  if (file == nullptr) return call.respond(NoSuchRoute());
  const std::string etag = "\"" + std::string(ConsoleEtagOf(*file)) + "\"";
  Response r;
  if (IfNoneMatchHits(call.request.if_none_match, ConsoleEtagOf(*file))) {
    r.status = 304;
    r.content_type.clear();
  } else {
    r.status = 200;
    r.content_type = std::string(ConsoleContentType(file->name));
    r.body = std::string(file->bytes);
  }
  // Names are not hashed, so a browser revalidates each file on every
  // load (a 304 without a body while the build is the same).
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", "no-cache");
  AddConsoleHeaders(&r);
  call.respond(std::move(r));
}

void ConsoleIndex(Call& call) { ServeFile(call, ""); }
void ConsoleFile(Call& call) { ServeFile(call, call.Param(0)); }

void ConsoleRedirect(Call& call) {
  Response r;
  r.status = 308;
  r.content_type.clear();
  r.headers.emplace_back("Location", "/ui/");
  AddConsoleHeaders(&r);
  call.respond(std::move(r));
}

}  // namespace

void AddConsoleRoutes(std::vector<RouteSpec>* r) {
  r->push_back({"GET", "/ui", "consoleRedirect", &ConsoleRedirect,
                Access::kPublic, "", /*console=*/true});
  r->push_back({"GET", "/ui/", "consoleIndex", &ConsoleIndex, Access::kPublic,
                "", /*console=*/true});
  r->push_back({"GET", "/ui/{file}", "consoleFile", &ConsoleFile,
                Access::kPublic, "", /*console=*/true});
}

}  // namespace acpstore::server
