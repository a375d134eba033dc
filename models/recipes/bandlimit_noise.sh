#!/usr/bin/env bash
# Band-limited copies of the gate's noise files: content reaches the model through
# a resampler (host rate -> 16 kHz) that removes the top of the band, and noise must
# not be recognisable by its energy near 8 kHz alone.
#   models/recipes/bandlimit_noise.sh DATA/gate/noise OUT_DIR
set -euo pipefail
src=$1
out=$2
mkdir -p "$out"
for f in "$src"/*.wav; do
	name=$(basename "$f" .wav)
	for cut in 7800 7500 7000 6000 4500 3000; do
		[ -f "$out/${name}_lp${cut}.wav" ] || sox "$f" "$out/${name}_lp${cut}.wav" sinc -"$cut"
	done
done
echo "$(ls "$out" | wc -l) band-limited noise files in $out"
