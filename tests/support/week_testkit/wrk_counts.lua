-- wrk script of week_testkit (the load tests and the benchmarks): sends the requests and counts
-- every answer.
--
--   wrk ... -s wrk_counts.lua http://127.0.0.1:PORT/predict -- predict   # POST {"text": ...}
--   wrk ... -s wrk_counts.lua http://127.0.0.1:PORT/predict -- predict BODIES
--       # POST each line of the file BODIES in turn (one JSON body a line)
--   wrk ... -s wrk_counts.lua http://127.0.0.1:PORT/ -- hello            # GET
--
-- wrk's own "Non-2xx or 3xx responses" counts only statuses >= 400; this script counts every
-- status outside 2xx, and the "stored" flag of prediction bodies. It prints one line at the end:
--   LOADCOUNTS 2xx=N non2xx=N 3xx=N 4xx=N 5xx=N 503=N stored_true=N stored_false=N

local TEXTS = {
  "The striker scored twice in the second half.",
  "The chip maker released a faster processor.",
  "The senate passed the budget bill after a long debate.",
  "Our cloud provider moved its servers to a new data centre.",
}
local KEYS = { "2xx", "non2xx", "3xx", "4xx", "5xx", "503", "stored_true", "stored_false" }

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local requests = {}
local turn = 0

function init(args)
  local mode = args[1] or "hello"
  if mode == "predict" then
    local headers = { ["Content-Type"] = "application/json" }
    local bodies = {}
    if args[2] then
      local file = assert(io.open(args[2], "r"))
      for line in file:lines() do
        if line ~= "" then table.insert(bodies, line) end
      end
      file:close()
      if #bodies == 0 then error("wrk_counts.lua: no body in " .. args[2]) end
    else
      for i, text in ipairs(TEXTS) do
        bodies[i] = '{"text": "' .. text .. '"}'
      end
    end
    for i, body in ipairs(bodies) do
      requests[i] = wrk.format("POST", nil, headers, body)
    end
  elseif mode == "hello" then
    requests[1] = wrk.format("GET")
  else
    error("wrk_counts.lua: mode must be predict or hello, got " .. mode)
  end
  counts = {} -- global: read by done() through thread:get
  for _, key in ipairs(KEYS) do
    counts[key] = 0
  end
end

function request()
  turn = turn % #requests + 1
  return requests[turn]
end

local function add(key)
  counts[key] = counts[key] + 1
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    add("2xx")
  else
    add("non2xx")
    if status >= 300 and status < 400 then add("3xx") end
    if status >= 400 and status < 500 then add("4xx") end
    if status >= 500 then add("5xx") end
    if status == 503 then add("503") end
  end
  if body then
    if string.find(body, '"stored"%s*:%s*true') then add("stored_true") end
    if string.find(body, '"stored"%s*:%s*false') then add("stored_false") end
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, key in ipairs(KEYS) do
    total[key] = 0
  end
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for _, key in ipairs(KEYS) do
      total[key] = total[key] + c[key]
    end
  end
  local parts = {}
  for _, key in ipairs(KEYS) do
    table.insert(parts, key .. "=" .. string.format("%d", total[key]))
  end
  io.write("LOADCOUNTS " .. table.concat(parts, " ") .. "\n")
end
