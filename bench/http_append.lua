-- wrk script for the http workload's cross-check (bench/http_workload.cc,
-- docs/benchmarks.md): POST one event per request, round-robin over the
-- sessions http-0 .. http-(N-1) that the workload created.
--   ACPSTORE_WRK_TOKEN     bearer token
--   ACPSTORE_WRK_BODY      file holding the JSON body (one 2.5 KB event)
--   ACPSTORE_WRK_SESSIONS  N (default 64)
local token = os.getenv("ACPSTORE_WRK_TOKEN")
local file = assert(io.open(os.getenv("ACPSTORE_WRK_BODY"), "rb"))
local body = file:read("*a")
file:close()
local sessions = tonumber(os.getenv("ACPSTORE_WRK_SESSIONS") or "64")
local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/json",
  -- As the workload's own generator: no payload echoed (SPEC 5.2).
  ["Prefer"] = "return=minimal",
}
local n = 0

request = function()
  n = n + 1
  return wrk.format("POST", "/v1/sessions/http-" .. (n % sessions) .. "/events",
                    headers, body)
end
