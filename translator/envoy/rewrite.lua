-- rukou's response rewriting (translator/envoy/lua.go says how routes use it).

-- url with its prefix from replaced by to; nil when it does not start with
-- from (compared as written, as nginx does).
local function rewrite_prefix(url, from, to)
  if from == nil or string.sub(url, 1, #from) ~= from then
    return nil
  end
  return to .. string.sub(url, #from + 1)
end

-- A Refresh header ("5; url=http://...") with its URL rewritten; the URL
-- follows the first "url=", in any letter case.
local function rewrite_refresh(value, from, to)
  local i = string.find(string.lower(value), "url=", 1, true)
  if i == nil then
    return nil
  end
  local url = rewrite_prefix(string.sub(value, i + 4), from, to)
  if url == nil then
    return nil
  end
  return string.sub(value, 1, i + 3) .. url
end

-- A cookie's domain replaced when it equals from (lowercase, no leading
-- dot), ignoring letter case and a leading dot, which stays.
local function rewrite_domain(value, from, to)
  if from == nil then
    return nil
  end
  local dot, rest = "", value
  if string.sub(value, 1, 1) == "." then
    dot, rest = ".", string.sub(value, 2)
  end
  if string.lower(rest) ~= from then
    return nil
  end
  return dot .. to
end

local function trim(s)
  return (string.gsub(s, "^%s+", ""):gsub("%s+$", ""))
end

-- One Set-Cookie value with its first Domain and first Path attributes
-- rewritten (the cookie's own name=value, before the first ";", is never
-- an attribute); nil when nothing changed.
local function rewrite_cookie(value, rw)
  local parts, changed = {}, false
  local done = {}
  local pos = 1
  while true do
    local semi = string.find(value, ";", pos, true)
    local part = string.sub(value, pos, (semi or (#value + 1)) - 1)
    local eq = string.find(part, "=", 1, true)
    if pos > 1 and eq ~= nil then
      local name = string.lower(trim(string.sub(part, 1, eq - 1)))
      local attr = string.sub(part, eq + 1)
      local new = nil
      if name == "domain" and not done.domain then
        done.domain = true
        new = rewrite_domain(attr, rw.domain_from, rw.domain_to)
      elseif name == "path" and not done.path then
        done.path = true
        new = rewrite_prefix(attr, rw.path_from, rw.path_to)
      end
      if new ~= nil then
        part = string.sub(part, 1, eq) .. new
        changed = true
      end
    end
    parts[#parts + 1] = part
    if semi == nil then
      break
    end
    pos = semi + 1
  end
  if not changed then
    return nil
  end
  return table.concat(parts, ";")
end

-- The session cookie's Set-Cookie value with an Expires attribute at now
-- plus seconds (an HTTP date), when the value sets the cookie named name
-- and has no Expires yet; nil otherwise.
local function add_expires(value, name, seconds)
  if string.sub(value, 1, #name + 1) ~= name .. "=" then
    return nil
  end
  -- The cookie's own value cannot hold a ";": what follows one is an
  -- attribute.
  if string.find(string.lower(value), ";%s*expires%s*=") ~= nil then
    return nil
  end
  return value .. "; Expires=" .. os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + seconds)
end

-- Every Set-Cookie value through each, which returns the new value or nil
-- for no change.
local function rewrite_cookies(headers, each)
  local cookies, changed = {}, false
  -- The map must not change while it is walked: collect, then replace.
  for name, value in pairs(headers) do
    if name == "set-cookie" then
      local new = each(value)
      cookies[#cookies + 1] = new or value
      changed = changed or new ~= nil
    end
  end
  if changed then
    headers:remove("set-cookie")
    for _, value in ipairs(cookies) do
      headers:add("set-cookie", value)
    end
  end
end

function envoy_on_response(handle)
  local ctx = handle:filterContext()
  local headers = handle:headers()
  local from, to = ctx:get("location_from"), ctx:get("location_to")
  if from ~= nil then
    local location = headers:get("location")
    local new = location and rewrite_prefix(location, from, to)
    if new ~= nil then
      headers:replace("location", new)
    end
    local refresh = headers:get("refresh")
    new = refresh and rewrite_refresh(refresh, from, to)
    if new ~= nil then
      headers:replace("refresh", new)
    end
  end
  local rw = {
    domain_from = ctx:get("cookie_domain_from"), domain_to = ctx:get("cookie_domain_to"),
    path_from = ctx:get("cookie_path_from"), path_to = ctx:get("cookie_path_to"),
  }
  local expiring = ctx:get("cookie_expires_name")
  local seconds = ctx:get("cookie_expires_seconds")
  if rw.domain_from ~= nil or rw.path_from ~= nil or expiring ~= nil then
    rewrite_cookies(headers, function(value)
      local new = rewrite_cookie(value, rw)
      return expiring and add_expires(new or value, expiring, seconds) or new
    end)
  end
end

-- The request's authority without its port ("[::1]:8080" gives "[::1]").
local function without_port(authority)
  if string.sub(authority, 1, 1) == "[" then
    local close = string.find(authority, "]", 1, true)
    if close ~= nil then
      return string.sub(authority, 1, close)
    end
    return authority
  end
  local colon = string.find(authority, ":", 1, true)
  if colon ~= nil then
    return string.sub(authority, 1, colon - 1)
  end
  return authority
end

-- A redirect whose Location names the request's host without its port:
-- the route's values give the status, the path (with a query of its own,
-- or the request's when redirect_keep_query is set), and optionally the
-- scheme; otherwise the request's scheme.
function envoy_on_request(handle)
  local ctx = handle:filterContext()
  local code = ctx:get("redirect_code")
  if code == nil then
    return
  end
  local headers = handle:headers()
  local request_path = headers:get(":path") or "/"
  local q = string.find(request_path, "?", 1, true)
  local path = ctx:get("redirect_path")
  if path == nil then
    path = q and string.sub(request_path, 1, q - 1) or request_path
  end
  if q ~= nil and ctx:get("redirect_keep_query") and string.find(path, "?", 1, true) == nil then
    path = path .. string.sub(request_path, q)
  end
  local scheme = ctx:get("redirect_scheme") or headers:get(":scheme") or "http"
  local location = scheme .. "://" .. without_port(headers:get(":authority") or "") .. path
  handle:respond({[":status"] = code, ["location"] = location}, "")
end
