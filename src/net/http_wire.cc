// AppendRequest, response heads, body framing: see http_wire.h.

#include "net/http_wire.h"

#include <strings.h>

#include <boost/json/parse.hpp>
#include <charconv>

#include "base/ascii.h"

namespace acpstore::net {
namespace {

using base::AsciiLower;
using base::EqualsAsciiLower;
using base::TrimHttpWhitespace;

// "HTTP/1.x NNN": the status code, or 0.
int StatusOf(std::string_view status_line) {
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") ||
      status_line[8] != ' ') {
    return 0;
  }
  int code = 0;
  auto [p, ec] = std::from_chars(status_line.data() + 9,
                                 status_line.data() + 12, code);
  if (ec != std::errc() || p != status_line.data() + 12) return 0;
  return code;
}

}  // namespace

namespace {

// Content-Type (unless given) and Content-Length of a non-empty body, the
// blank line and the body.
void AppendBody(std::string* out, std::string_view body, bool has_type) {
  static constexpr std::string_view kLength = "\r\nContent-Length: ";
  static constexpr std::string_view kTypeAndLength =
      "\r\nContent-Type: application/json\r\nContent-Length: ";
  static constexpr std::string_view kEnd = "\r\n\r\n";
  if (!body.empty()) {
    out->append(has_type ? kLength : kTypeAndLength);
    char digits[24];
    const auto [end, ec] =
        std::to_chars(digits, digits + sizeof(digits), body.size());
    out->append(digits, static_cast<size_t>(end - digits));
  }
  out->append(kEnd).append(body);
}

bool AppendExtra(std::string* out, const HeaderList& extra) {
  bool has_type = false;
  for (const auto& [name, value] : extra) {
    out->append("\r\n").append(name).append(": ").append(value);
    has_type = has_type || EqualsAsciiLower(name, "content-type");
  }
  return has_type;
}

}  // namespace

RequestWriter::RequestWriter(std::string_view host, std::string_view token) {
  common_.append(" HTTP/1.1\r\nHost: ").append(host);
  if (!token.empty()) common_.append("\r\nAuthorization: Bearer ").append(token);
}

void RequestWriter::Append(std::string* out, std::string_view method,
                           std::string_view target,
                           std::string_view body) const {
  // One allocation: the request's exact size but for the length digits.
  out->reserve(out->size() + method.size() + target.size() + common_.size() +
               body.size() + 80);
  out->append(method).append(" ").append(target).append(common_);
  // AppendBody(out, body, false), written out: the hot path of the load
  // generator stays one function.
  if (!body.empty()) {
    out->append("\r\nContent-Type: application/json\r\nContent-Length: ");
    char digits[24];
    const auto [end, ec] =
        std::to_chars(digits, digits + sizeof(digits), body.size());
    out->append(digits, static_cast<size_t>(end - digits));
  }
  out->append("\r\n\r\n").append(body);
}

void RequestWriter::Append(std::string* out, std::string_view method,
                           std::string_view target, std::string_view body,
                           const HeaderList& extra) const {
  out->append(method).push_back(' ');
  out->append(target).append(common_);
  AppendBody(out, body, AppendExtra(out, extra));
}

void AppendRequest(std::string* out, std::string_view method,
                   std::string_view target, std::string_view host,
                   std::string_view token, std::string_view body,
                   const HeaderList& extra) {
  RequestWriter(host, token).Append(out, method, target, body, extra);
}

std::string Response::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

boost::json::value Response::Json() const {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec) return nullptr;
  return v;
}

std::string Response::ErrorCode() const {
  boost::json::value v = Json();
  if (!v.is_object()) return "";
  const auto* err = v.as_object().if_contains("error");
  if (err == nullptr || !err->is_object()) return "";
  const auto* code = err->as_object().if_contains("code");
  return code != nullptr && code->is_string() ? std::string(code->as_string())
                                              : std::string();
}

std::optional<Status> ParseResponseHead(
    std::string_view in, ResponseHead* head,
    std::map<std::string, std::string>* headers, size_t max_head) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (in.size() > max_head) {
      return Status::Unavailable("response head larger than " +
                                 std::to_string(max_head) + " bytes");
    }
    // A partial status line that already cannot be HTTP fails early.
    const std::string_view prefix = "HTTP/1.";
    const size_t n = std::min(in.size(), prefix.size());
    if (in.substr(0, n) != prefix.substr(0, n)) {
      return Status::Unavailable("not an HTTP/1.x response");
    }
    return std::nullopt;
  }
  std::string_view text = in.substr(0, end);
  size_t eol = text.find("\r\n");
  *head = ResponseHead();
  head->status = StatusOf(text.substr(0, eol));
  if (head->status == 0) return Status::Unavailable("not an HTTP/1.x response");
  head->size = end + 4;
  bool has_length = false;
  bool chunked = false;
  while (eol != std::string_view::npos) {
    text.remove_prefix(eol + 2);
    eol = text.find("\r\n");
    const std::string_view line = text.substr(0, eol);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = TrimHttpWhitespace(line.substr(colon + 1));
    if (EqualsAsciiLower(name, "content-length")) {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(),
                                     head->content_length);
      if (ec != std::errc() || p != value.data() + value.size()) {
        return Status::Unavailable("bad Content-Length: " + std::string(value));
      }
      has_length = true;
    } else if (EqualsAsciiLower(name, "transfer-encoding")) {
      chunked = value.size() >= 7 &&
                EqualsAsciiLower(value.substr(value.size() - 7), "chunked");
    } else if (EqualsAsciiLower(name, "connection")) {
      head->close = EqualsAsciiLower(value, "close");
    }
    if (headers != nullptr) {
      (*headers)[AsciiLower(name)] = std::string(value);
    }
  }
  if (head->status < 200 || head->status == 204 || head->status == 304) {
    head->body = BodyKind::kNone;
  } else if (chunked) {
    head->body = BodyKind::kChunked;  // wins over a Content-Length (RFC 9112)
  } else if (has_length) {
    head->body = BodyKind::kLength;
  } else {
    head->body = BodyKind::kUntilClose;
  }
  return std::nullopt;
}

std::optional<FramedResponse> FrameLengthResponse(std::string_view in) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos || end < 12) return std::nullopt;
  FramedResponse r;
  r.status = StatusOf(in.substr(0, 12));
  uint64_t body = 0;
  // Beast writes "Content-Length"; accept any case anyway.
  for (size_t pos = in.find("\r\n"); pos < end; pos = in.find("\r\n", pos + 2)) {
    if (pos + 2 + 15 <= end &&
        ::strncasecmp(in.data() + pos + 2, "content-length:", 15) == 0) {
      const char* p = in.data() + pos + 2 + 15;
      while (*p == ' ') ++p;
      std::from_chars(p, in.data() + end, body);
      break;
    }
  }
  if (in.size() < end + 4 + body) return std::nullopt;
  r.size = end + 4 + body;
  return r;
}

Status ChunkedDecoder::Feed(std::string_view in, size_t* used,
                            std::string* out) {
  size_t i = 0;
  while (i < in.size() && state_ != State::kDone) {
    switch (state_) {
      case State::kData: {
        const size_t take =
            static_cast<size_t>(std::min<uint64_t>(left_, in.size() - i));
        out->append(in.substr(i, take));
        i += take;
        left_ -= take;
        if (left_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kSize:
      case State::kDataEnd:
      case State::kTrailer: {
        const size_t nl = in.find('\n', i);
        const size_t stop = nl == std::string_view::npos ? in.size() : nl;
        line_.append(in.substr(i, stop - i));
        if (line_.size() > 4096) {
          return Status::InvalidArgument("chunked body: line too long");
        }
        if (nl == std::string_view::npos) {
          i = in.size();
          break;
        }
        i = nl + 1;
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        if (state_ == State::kDataEnd) {
          if (!line_.empty()) {
            return Status::InvalidArgument("chunked body: no CRLF after data");
          }
          state_ = State::kSize;
        } else if (state_ == State::kTrailer) {
          if (line_.empty()) state_ = State::kDone;
        } else {
          const std::string_view line = line_;
          const std::string_view size_text = line.substr(0, line.find(';'));
          auto [p, ec] = std::from_chars(
              size_text.data(), size_text.data() + size_text.size(), left_, 16);
          if (ec != std::errc() || p == size_text.data()) {
            return Status::InvalidArgument("chunked body: bad chunk size '" +
                                           line_.substr(0, 40) + "'");
          }
          state_ = left_ == 0 ? State::kTrailer : State::kData;
        }
        line_.clear();
        break;
      }
      case State::kDone:
        break;
    }
  }
  *used = i;
  return Status::OK();
}

}  // namespace acpstore::net
