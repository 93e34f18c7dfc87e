-- wrk script of run.py's pipelined table: each write carries `depth` GET requests
-- (`wrk ... -s pipeline.lua URL -- 16`); wrk counts every response it reads.
init = function(args)
  local depth = tonumber(args[1]) or 1
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format()
  end
  batch = table.concat(requests)
end

request = function()
  return batch
end
