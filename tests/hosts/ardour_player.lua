ardour {
	["type"]    = "dsp",
	name        = "Stride Test Player",
	category    = "Utility",
	license     = "ISC",
	author      = "Stride tests",
	description = [[Plays audio that a test script placed in this processor's shared memory, in
place of the track's input (Stride's Ardour test installs it in a private config folder).
Shared memory: float [0] = number of frames, then the frames. "Play" going to 1 restarts
from the first frame; "Position" is the seconds played so far, the test's time line.]]
}

-- Mono and stereo tracks: every output channel gets the same audio.
function dsp_ioconfig ()
	return { { audio_in = 1, audio_out = 1 }, { audio_in = 2, audio_out = 2 } }
end

function dsp_params ()
	return {
		{ ["type"] = "input", name = "Play", min = 0, max = 1, default = 0, toggled = true },
		{ ["type"] = "output", name = "Position", min = 0, max = 100000 },
	}
end

local pos = 0
local was = 0
local rate = 48000

-- The test script fills the shared memory before it adds this processor to a
-- route, so the memory never moves while dsp_run reads it.
function dsp_init (r)
	rate = r
end

function dsp_run (ins, outs, n_samples)
	local ctrl = CtrlPorts:array ()
	local f = self:shmem ():to_float (0)
	local a = f and f:array ()
	local n = a and math.floor (a[1]) or 0
	local play = ctrl[1] > 0.5
	if play and was <= 0.5 then pos = 0 end
	was = ctrl[1]
	local start = pos
	for c = 1, #outs do
		local o = outs[c]:array ()
		local p = start
		for i = 1, n_samples do
			if play and p < n then
				p = p + 1
				o[i] = a[p + 1]
			else
				o[i] = 0
			end
		end
		pos = p
	end
	ctrl[2] = pos / rate
end
