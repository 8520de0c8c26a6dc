// Validation of every request the Store accepts (SPEC §2.5-2.7).
//
// Each function checks one request shape against Limits and, where the
// request carries JSON (payloads, metadata maps), replaces it in place with
// its canonical compact bytes, so the JSON is parsed exactly once. Every
// rejection is a Status (kInvalidArgument, or kPayloadTooLarge for a size
// cap) whose message names the field and the rule, with a "field" detail
// holding the camelCase field path ("events[3].payload").
//
// Thread-safety: pure functions. Used by every engine before it mutates.

#ifndef ACPSTORE_RECORD_VALIDATE_H_
#define ACPSTORE_RECORD_VALIDATE_H_

#include <string>
#include <string_view>

#include "acpstore/options.h"
#include "acpstore/records.h"
#include "acpstore/result.h"
#include "acpstore/status.h"

namespace acpstore::record {

// Parses `json` (any JSON value) and returns its canonical compact
// serialisation: no insignificant whitespace, object keys in input order,
// strings with minimal escaping, integers as written (without a leading
// "+" or redundant zeros), other numbers in shortest round-trip form.
// Refuses invalid JSON, invalid UTF-8, nesting deeper than
// limits.max_json_depth, duplicate keys in an object, numbers that do not
// fit a double (1e400), and canonical output over limits.max_payload_bytes.
Result<std::string> CanonicalizePayload(std::string_view json,
                                        const Limits& limits,
                                        std::string_view field = "payload");

// Parses a metadata map (SPEC §2.6): a flat JSON object of at most
// max_metadata_keys keys, each 1..max_metadata_key_bytes bytes, not
// __proto__/constructor/prototype, not matching (case-insensitively)
// token|secret|password|api[_-]?key|authorization|cookie; each value null,
// a boolean, a finite number or a string of at most
// max_metadata_value_bytes. Returns canonical bytes with keys sorted
// bytewise, so equal maps compare equal as strings.
Result<std::string> CanonicalizeMetadata(std::string_view json,
                                         const Limits& limits,
                                         std::string_view field);

// Valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
Status CheckUtf8(std::string_view value, std::string_view field);
// An identifier: 1..max_bytes bytes, valid UTF-8, no control characters
// (C0, DEL, C1). Compared byte-exact elsewhere; never trimmed.
Status CheckId(std::string_view value, std::string_view field,
               size_t max_bytes);
// A free-text string: 1..max_bytes bytes (or 0.. when allow_empty), valid
// UTF-8.
Status CheckText(std::string_view value, std::string_view field,
                 size_t max_bytes, bool allow_empty = false);
// The same, its length counted in UTF-16 code units as JavaScript counts
// it: the pause texts, whose limits Aegis states that way (SPEC §2.4).
Status CheckTextUtf16(std::string_view value, std::string_view field,
                      size_t max_units, bool allow_empty = false);

Status ValidateNewSession(NewSession* req, const Limits& limits);
Status ValidateSessionPatch(SessionPatch* patch, const Limits& limits);
Status ValidateSessionQuery(const SessionQuery& query);
// Validates one event; `field` prefixes its field names ("events[2]").
Status ValidateNewEvent(NewEvent* event, const Limits& limits,
                        std::string_view field = "");
// Batch size, each event, and clientEventIds unique within the batch.
Status ValidateAppendRequest(AppendRequest* req, const Limits& limits);
Status ValidateListLimit(uint32_t limit);  // 1..1000
Status ValidateNewAction(NewAction* req, const Limits& limits);
Status ValidateActionQuery(const ActionQuery& query);
Status ValidateLeaseRequest(const LeaseRequest& req, const Limits& limits);
Status ValidateLeaseMs(int64_t lease_ms);  // 1,000..3,600,000
// Canonicalises an optional metadata map in place.
Status ValidateOptionalMetadata(std::optional<std::string>* metadata,
                                const Limits& limits, std::string_view field);
Status ValidatePauseRequest(PauseRequest* req, const Limits& limits);
Status ValidateInterventionStart(const InterventionStartRequest& req,
                                 const Limits& limits);
Status ValidateInterventionComplete(const InterventionCompleteRequest& req,
                                    const Limits& limits);
Status ValidateResumeRequest(ResumeRequest* req, const Limits& limits);

}  // namespace acpstore::record

#endif  // ACPSTORE_RECORD_VALIDATE_H_
