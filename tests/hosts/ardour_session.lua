-- Stride's Ardour test, the Ardour side: run by Ardour's headless Lua session tool,
--
--   ardour7-lua ardour_session.lua CONFIG.lua
--
-- CONFIG.lua (written by test_ardour.py) returns a table: mode ("create" or
-- "reload"), the session folder and name, the rate, a raw float32 audio file,
-- and one entry per plugin (URI, track channels, controls to set, outputs to
-- read, an optional preset to load). The engine is the "None (Dummy)" backend.
--
-- create: new session; per plugin a track with the test player (a Lua DSP
--   processor, ardour_player.lua) first and the plugin by URI after it; set the
--   controls; play the audio and print the outputs; load the presets (how a
--   script sets the model path: Ardour's Lua API has no call for LV2
--   patch:writable properties); play again; save.
-- reload: load the saved session, print the restored control values, play the
--   audio again and print the outputs; save again.
--
-- Output lines, read by test_ardour.py:
--   V PHASE TAG POSITION VALUE...   outputs (in config order) at POSITION seconds of audio
--   P TAG SYMBOL VALUE              a control's value after reload
--   R WHAT...                       results of steps;  DONE at the very end
--   ERROR MESSAGE                   then the script stops

local cfg = dofile (arg[1])

-- Results go to their own file: Ardour's and the plugins' log lines share stdout.
local results = assert (io.open (cfg.results, "w"))
local function emit (line)
	results:write (line, "\n")
	results:flush ()
	if line:sub (1, 2) ~= "V " then print (line) end
end

local function fail (msg)
	emit ("ERROR " .. msg)
	error (msg)
end

local function param (proc, which)
	local v = ARDOUR.LuaAPI.get_processor_param (proc, which, false)
	return v
end

-- The audio, decoded once: a Lua table of floats.
local function read_audio (path)
	local raw = ARDOUR.LuaAPI.file_get_contents (path)
	if not raw or #raw < 4 then fail ("cannot read " .. path) end
	local n = #raw // 4
	local t = {}
	for i = 1, n do t[i] = string.unpack ("<f", raw, 4 * i - 3) end
	return t, n
end

-- Puts the audio into a player's shared memory while the player is not running.
local function load_player (player, audio, n)
	player:deactivate ()
	ARDOUR.LuaAPI.usleep (100000)
	local shm = player:to_insert ():plugin (0):to_luaproc ():shmem ()
	shm:allocate (n + 1)
	local a = shm:to_float (0):array ()
	for i = 1, n do a[i + 1] = audio[i] end
	a[1] = n
	player:activate ()
end

-- Plays the audio through every track at once; prints the outputs every 50 ms.
local function play (phase, tracks, seconds)
	for _, t in ipairs (tracks) do ARDOUR.LuaAPI.set_processor_param (t.player, 0, 0) end
	ARDOUR.LuaAPI.usleep (100000)
	for _, t in ipairs (tracks) do ARDOUR.LuaAPI.set_processor_param (t.player, 0, 1) end
	local t0 = ARDOUR.LuaAPI.monotonic_time ()
	while true do
		ARDOUR.LuaAPI.usleep (50000)
		local all_done = true
		for _, t in ipairs (tracks) do
			local pos = param (t.player, 1)
			local vals = {}
			for k, o in ipairs (t.spec.outputs) do vals[k] = string.format ("%.6g", param (t.proc, o.which)) end
			emit (string.format ("V %s %s %.4f %s", phase, t.spec.tag, pos, table.concat (vals, " ")))
			-- Position is a float32 control: allow for its rounding.
			if pos < seconds - 0.02 then all_done = false end
		end
		if all_done then break end
		if ARDOUR.LuaAPI.monotonic_time () - t0 > (seconds + 30) * 1e6 then
			fail ("playback did not reach " .. seconds .. " s within " .. (seconds + 30) .. " s: is the engine running?")
		end
	end
	for _, t in ipairs (tracks) do ARDOUR.LuaAPI.set_processor_param (t.player, 0, 0) end
	ARDOUR.LuaAPI.usleep (100000)
end

local function plugin_uri (proc)
	local pi = proc:to_insert ()
	if pi:isnil () then return nil end
	local p = pi:plugin (0)
	if p:isnil () then return nil end
	return p:unique_id ()
end

local audio, n_audio = read_audio (cfg.audio)
local b = AudioEngine:set_backend ("None (Dummy)", "", "")
if b:isnil () then fail ("the None (Dummy) backend is not available") end
b:set_device_name ("Silence")
emit ("R backend " .. b:info ().name .. " device " .. b:device_name ())

local tracks = {}

if cfg.mode == "create" then
	local s = create_session (cfg.dir, cfg.name, cfg.rate)
	if not s then fail ("create_session failed: " .. cfg.dir) end
	emit ("R session " .. Session:name () .. " rate " .. Session:nominal_sample_rate ())
	for _, spec in ipairs (cfg.plugins) do
		local tl = Session:new_audio_track (spec.channels, 2, nil, 1, spec.tag,
			ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
		if tl:size () ~= 1 then fail ("cannot add track " .. spec.tag) end
		local track = tl:front ()
		local player = ARDOUR.LuaAPI.new_luaproc (Session, "Stride Test Player")
		if player:isnil () then fail ("the test player script was not found (ardour_player.lua)") end
		if track:add_processor_by_index (player, 0, nil, true) ~= 0 then fail ("cannot add the player") end
		load_player (player, audio, n_audio)
		local proc = ARDOUR.LuaAPI.new_plugin (Session, spec.uri, ARDOUR.PluginType.LV2, "")
		if proc:isnil () then fail ("Ardour cannot instantiate " .. spec.uri) end
		if track:add_processor_by_index (proc, 1, nil, true) ~= 0 then
			fail ("cannot add " .. spec.uri .. " to track " .. spec.tag)
		end
		emit ("R inserted " .. spec.tag .. " " .. spec.uri .. " as '" .. proc:display_name () .. "'")
		for _, c in ipairs (spec.set) do
			local ok = ARDOUR.LuaAPI.set_processor_param (proc, c.which, c.value)
			emit ("R set " .. spec.tag .. " " .. c.sym .. " " .. tostring (c.value) .. " " .. tostring (ok))
		end
		tracks[#tracks + 1] = { spec = spec, track = track, player = player, proc = proc }
	end
	play ("run", tracks, cfg.duration)
	for _, t in ipairs (tracks) do
		if t.spec.preset then
			local p = t.proc:to_insert ():plugin (0)
			local pr = p:preset_by_uri (t.spec.preset)
			if not pr or not pr.valid then fail ("Ardour does not list the preset " .. t.spec.preset) end
			emit ("R preset " .. t.spec.tag .. " " .. tostring (p:load_preset (pr)) .. " " .. pr.label)
		end
	end
	ARDOUR.LuaAPI.usleep (500000)
	play ("alt", tracks, cfg.alt_duration)
	Session:save_state ("")
	emit ("R saved")
elseif cfg.mode == "reload" then
	local s = load_session (cfg.dir, cfg.name)
	if not s then fail ("load_session failed: " .. cfg.dir) end
	emit ("R session " .. Session:name () .. " rate " .. Session:nominal_sample_rate ())
	for _, spec in ipairs (cfg.plugins) do
		local track = Session:route_by_name (spec.tag)
		if track:isnil () then fail ("track " .. spec.tag .. " is missing after reload") end
		local player, proc
		local i = 0
		while true do
			local p = track:nth_processor (i)
			if p:isnil () then break end
			if p:display_name () == "Stride Test Player" then player = p end
			if plugin_uri (p) == spec.uri then proc = p end
			i = i + 1
		end
		if not player then fail ("the player is missing on track " .. spec.tag) end
		if not proc then fail (spec.uri .. " is missing on track " .. spec.tag .. " after reload") end
		emit ("R found " .. spec.tag .. " " .. spec.uri)
		load_player (player, audio, n_audio)
		for _, c in ipairs (spec.set) do
			emit ("P " .. spec.tag .. " " .. c.sym .. " " .. string.format ("%.6g", param (proc, c.which)))
		end
		tracks[#tracks + 1] = { spec = spec, track = track, player = player, proc = proc }
	end
	play ("reload", tracks, cfg.duration)
	Session:save_state ("")
	emit ("R saved")
else
	fail ("unknown mode " .. tostring (cfg.mode))
end
emit ("DONE")
