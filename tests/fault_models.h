/* The model files the plugin fault tests (soak, input and state faults) load:
 * good ones with known behaviour (the hand-weighted models of test_models.h)
 * and bad ones of every kind a host can hand a plugin. All are written into the
 * program's temporary folder (tests/support: ts_tmpdir_make first).
 *
 *   energy_gate.safetensors   gate: opens when mean|x| over 32 ms > 0.01
 *   min_gate.safetensors      gate: opens for windows loud from end to end
 *   energy_cls.safetensors    classifier: "quiet" / "loud" by the same level
 *   truncated_gate.safetensors, truncated_cls.safetensors: the first half of
 *                             the good files
 *   garbage.safetensors       random bytes
 *   folder.safetensors        a directory where a file should be (root reads
 *                             any file, whatever its permission bits)
 *   missing.safetensors       never written
 *
 * Header-only, as test_models.h is, since each program uses a few of them. */
#ifndef STRIDE_FAULT_MODELS_H
#define STRIDE_FAULT_MODELS_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "test_models.h"
#include "test_support.h"

#define FM_ENERGY_GATE "energy_gate.safetensors"
#define FM_MIN_GATE "min_gate.safetensors"
#define FM_ENERGY_CLS "energy_cls.safetensors"
#define FM_TRUNCATED_GATE "truncated_gate.safetensors"
#define FM_TRUNCATED_CLS "truncated_cls.safetensors"
#define FM_GARBAGE "garbage.safetensors"
#define FM_FOLDER "folder.safetensors"
#define FM_MISSING "missing.safetensors"

/* The hand-weighted energy models' window at their 16 kHz rate, in seconds. */
#define FM_ENERGY_WINDOW_S (512.0 / 16000.0)

static inline int fm_save(StrideModel *m, const char *name)
{
	char err[STRIDE_ERR_LEN];
	const int rc = m && stride_model_write(m, ts_tmp_path(name), err) == 0 ? 0 : -1;
	if (rc)
		fprintf(stderr, "saving %s: %s\n", name, m ? err : "no model");
	stride_model_free(m);
	return rc;
}

static inline int fm_write(const char *name, const void *bytes, size_t n)
{
	FILE *f = fopen(ts_tmp_path(name), "wb");
	if (!f)
		return -1;
	const size_t put = fwrite(bytes, 1, n, f);
	return fclose(f) == 0 && put == n ? 0 : -1;
}

/* The first half of `from`, as `to`. */
static inline int fm_truncate(const char *from, const char *to)
{
	FILE *f = fopen(ts_tmp_path(from), "rb");
	if (!f)
		return -1;
	static unsigned char buf[1 << 16];
	const size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	return n > 1 ? fm_write(to, buf, n / 2) : -1;
}

/* Writes every file above; 0, or -1 after saying what failed. */
static inline int fm_write_all(void)
{
	if (fm_save(test_energy_model(false, 16000, 512, 128, 0.01f, 400.0f), FM_ENERGY_GATE) ||
	    fm_save(test_min_level_model(16000, 400, 160, 0.1f, 200.0f), FM_MIN_GATE) ||
	    fm_save(test_energy_model(true, 16000, 512, 128, 0.01f, 400.0f), FM_ENERGY_CLS))
		return -1;
	if (fm_truncate(FM_ENERGY_GATE, FM_TRUNCATED_GATE) ||
	    fm_truncate(FM_ENERGY_CLS, FM_TRUNCATED_CLS)) {
		fprintf(stderr, "cannot write the truncated models\n");
		return -1;
	}
	unsigned char junk[3000];
	uint64_t s = 0x1234567u;
	for (size_t i = 0; i < sizeof junk; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		junk[i] = (unsigned char)(s >> 56);
	}
	if (fm_write(FM_GARBAGE, junk, sizeof junk) || mkdir(ts_tmp_path(FM_FOLDER), 0700)) {
		fprintf(stderr, "cannot write the garbage model or its folder\n");
		return -1;
	}
	return 0;
}

#endif /* STRIDE_FAULT_MODELS_H */
