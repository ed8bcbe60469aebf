-- wrk script: POST generateContent to the gateway (or nginx), a distinct prompt per request
-- so the simulator cannot serve a cached answer and pack mode has real members.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"contents":[{"role":"user","parts":[{"text":"question number ' .. counter .. ' about rivers"}]}]}'
  return wrk.format(nil, "/v1beta/models/gemini-2.0-flash:generateContent", nil, body)
end
local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT req_per_s=%.0f p50_ms=%.2f p99_ms=%.2f non2xx=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.requests))
end
