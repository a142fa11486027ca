-- wrk script: replays requests pre-signed by sign_requests.py (the file named
-- by REQUESTS), one after another per thread, to load a server that checks
-- SigV4 signatures. Counts non-200 answers (printed at the end): a run must
-- report 0, or it measured refusals.
local path = os.getenv("REQUESTS") or "requests.txt"
local reqs = {}
local i = 0
non200 = 0

function init(args)
  local host = wrk.host .. ":" .. wrk.port
  for line in io.lines(path) do
    local target, date, auth, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    reqs[#reqs + 1] = "POST / HTTP/1.1\r\nHost: " .. host
        .. "\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: " .. target
        .. "\r\nX-Amz-Date: " .. date .. "\r\nAuthorization: " .. auth
        .. "\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body
  end
  i = math.random(#reqs) - 1
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non200") end
  io.write(string.format("non-200 responses: %d\n", bad))
end
