/* Model files: a hand-made file (built here from its JSON, not by our writer)
 * loads with the expected fields and weights; each kind of fault in it is an
 * error naming the file and the fault; every truncation fails cleanly and byte
 * flips never crash; save/load is bit-exact; and python/stride_torch (with the
 * example script of docs/MODEL_FORMAT.md) writes files we load and reads files
 * we write, with the network's output matching PyTorch's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stride.h"
#include "test_support.h"

static int bits_equal(float a, float b)
{
	return memcmp(&a, &b, 4) == 0;
}

/* ------------------------------------------------------------------------ */
/* A hand-made model: conv1d c1 (1 -> 2, kernel 3), relu, global average,   */
/* dense fc (2 -> 2), softmax; 14 weights laid out back to back.             */
/* ------------------------------------------------------------------------ */

static const char *hand_arch =
    "{\"layers\": [{\"type\": \"conv1d\", \"name\": \"c1\", \"in\": 1, \"out\": 2, "
    "\"kernel\": 3}, {\"type\": \"relu\"}, {\"type\": \"global_avgpool\"}, {\"type\": "
    "\"dense\", \"name\": \"fc\", \"in\": 2, \"out\": 2}, {\"type\": \"softmax\"}]}";

#define HAND_FLOATS 14

typedef struct {
	cJSON *root;
	uint8_t data[256];
	size_t dlen;
} Hand;

static float hand_value(int i)
{
	return 0.125f * (float)i - 0.75f;
}

static void put_f32(uint8_t *p, float v)
{
	uint32_t u;
	memcpy(&u, &v, 4);
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(u >> (8 * i));
}

static void hand_tensor(Hand *h, const char *name, const char *dtype, const char *shape,
                        long begin, long end)
{
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "dtype", dtype);
	cJSON_AddItemToObject(t, "shape", cJSON_Parse(shape));
	cJSON *off = cJSON_CreateArray();
	cJSON_AddItemToArray(off, cJSON_CreateNumber((double)begin));
	cJSON_AddItemToArray(off, cJSON_CreateNumber((double)end));
	cJSON_AddItemToObject(t, "data_offsets", off);
	cJSON_DeleteItemFromObject(h->root, name);
	cJSON_AddItemToObject(h->root, name, t);
}

static void hand_meta(Hand *h, const char *key, const char *value)
{
	cJSON *m = cJSON_GetObjectItem(h->root, "__metadata__");
	cJSON_DeleteItemFromObject(m, key);
	if (value)
		cJSON_AddStringToObject(m, key, value);
}

/* Replace one field of a tensor entry with a JSON value. */
static void hand_field(Hand *h, const char *tensor, const char *key, const char *json)
{
	cJSON *t = cJSON_GetObjectItem(h->root, tensor);
	assert_non_null(t);
	cJSON *v = cJSON_Parse(json);
	assert_non_null(v);
	cJSON_ReplaceItemInObject(t, key, v);
}

static void hand_init(Hand *h)
{
	memset(h, 0, sizeof *h);
	h->root = cJSON_CreateObject();
	cJSON_AddItemToObject(h->root, "__metadata__", cJSON_CreateObject());
	hand_meta(h, "stride.format", "1");
	hand_meta(h, "stride.task", "classify");
	hand_meta(h, "stride.sample_rate", "16000");
	hand_meta(h, "stride.labels", "[\"yes\", \"no\"]");
	hand_meta(h, "stride.architecture", hand_arch);
	hand_meta(h, "user.note", "kept");
	hand_tensor(h, "c1.weight", "F32", "[2, 1, 3]", 0, 24);
	hand_tensor(h, "c1.bias", "F32", "[2]", 24, 32);
	hand_tensor(h, "fc.weight", "F32", "[2, 2]", 32, 48);
	hand_tensor(h, "fc.bias", "F32", "[2]", 48, 56);
	for (int i = 0; i < HAND_FLOATS; i++)
		put_f32(h->data + 4 * i, hand_value(i));
	h->dlen = 4 * HAND_FLOATS;
}

/* The file's bytes; the header is left unpadded (readers must not care). */
static uint8_t *hand_bytes(Hand *h, size_t *len)
{
	char *text = cJSON_PrintUnformatted(h->root);
	assert_non_null(text);
	size_t n = strlen(text);
	uint8_t *b = malloc(8 + n + h->dlen + 1);
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)n >> (8 * i));
	memcpy(b + 8, text, n);
	memcpy(b + 8 + n, h->data, h->dlen);
	*len = 8 + n + h->dlen;
	free(text);
	return b;
}

static void hand_free(Hand *h)
{
	cJSON_Delete(h->root);
}

static void expect_bytes_error(const uint8_t *b, size_t len, const char *w1, const char *w2)
{
	char err[STRIDE_ERR_LEN] = "";
	StrideModel *m = stride_model_read_memory(b, len, "models/hand.safetensors", err);
	if (m) {
		stride_model_free(m);
		fail_msg("accepted a file that should fail with \"%s\"", w1);
	}
	if (getenv("SHOW_ERR"))
		printf("%s\n", err);
	if (strncmp(err, "models/hand.safetensors: ", 25) != 0 || !strstr(err, w1) ||
	    (w2 && !strstr(err, w2)))
		fail_msg("error \"%s\" lacks the file name, \"%s\" or \"%s\"", err, w1, w2 ? w2 : "");
}

static void expect_error(Hand *h, const char *w1, const char *w2)
{
	size_t len;
	uint8_t *b = hand_bytes(h, &len);
	expect_bytes_error(b, len, w1, w2);
	free(b);
	hand_free(h);
}

static void test_hand_made_loads(void **state)
{
	(void)state;
	Hand h;
	hand_init(&h);
	size_t len;
	uint8_t *b = hand_bytes(&h, &len);
	char err[STRIDE_ERR_LEN] = "";
	StrideModel *m = stride_model_read_memory(b, len, "hand", err);
	if (!m)
		fail_msg("%s", err);
	assert_int_equal(m->task, STRIDE_TASK_CLASSIFY);
	assert_int_equal(m->sample_rate, 16000);
	assert_int_equal(m->n_labels, 2);
	assert_string_equal(m->labels[0], "yes");
	assert_string_equal(m->labels[1], "no");
	assert_int_equal(m->window, 3); /* the receptive field: the conv's kernel */
	assert_int_equal(m->hop, 1);
	assert_true(m->input_gain == 1.0f);
	assert_int_equal(m->n_meta, 6);
	assert_string_equal(stride_model_meta(m, "user.note"), "kept");
	assert_string_equal(stride_model_meta(m, "stride.architecture"), hand_arch);
	assert_null(stride_model_meta(m, "stride.window"));
	assert_int_equal(stride_net_n_layers(m->net), 5);
	/* the weights, in file order */
	const char *names[4] = {"c1.weight", "c1.bias", "fc.weight", "fc.bias"};
	int at = 0;
	for (int k = 0; k < 4; k++) {
		int i = stride_net_find_tensor(m->net, names[k]);
		assert_int_not_equal(i, -1);
		StrideTensor t = stride_net_tensor(m->net, i);
		for (size_t j = 0; j < t.size; j++)
			assert_true(bits_equal(t.data[j], hand_value(at++)));
	}
	assert_int_equal(at, HAND_FLOATS);
	stride_model_free(m);

	/* the same through a file, and a PyTorch batchnorm counter is ignored */
	hand_tensor(&h, "bn.num_batches_tracked", "I64", "[]", 56, 64);
	h.dlen += 8;
	free(b);
	b = hand_bytes(&h, &len);
	const char *path = ts_tmp_path("hand.safetensors");
	FILE *f = fopen(path, "wb");
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
	m = stride_model_read(path, err);
	if (!m)
		fail_msg("%s", err);
	assert_int_equal(stride_net_n_tensors(m->net), 4);
	stride_model_free(m);
	free(b);
	hand_free(&h);

	/* optional keys read */
	hand_init(&h);
	hand_meta(&h, "stride.window", "100");
	hand_meta(&h, "stride.hop", "50");
	hand_meta(&h, "stride.input_gain", "0.25");
	hand_meta(&h, "stride.task", "gate");
	b = hand_bytes(&h, &len);
	m = stride_model_read_memory(b, len, "hand", err);
	assert_non_null(m);
	assert_int_equal(m->task, STRIDE_TASK_GATE);
	assert_int_equal(m->window, 100);
	assert_int_equal(m->hop, 50);
	assert_true(m->input_gain == 0.25f);
	stride_model_free(m);
	free(b);
	hand_free(&h);

	assert_null(stride_model_read(ts_tmp_path("absent.safetensors"), err));
	assert_non_null(strstr(err, "absent.safetensors"));
}

static void test_hand_made_errors(void **state)
{
	(void)state;
	Hand h;
	/* shapes against the architecture */
	hand_init(&h);
	hand_field(&h, "c1.weight", "shape", "[2, 3, 1]");
	expect_error(&h, "tensor c1.weight: shape [2, 3, 1] does not match the architecture "
	                 "[2, 1, 3]", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.architecture", "{\"layers\": [{\"type\": \"conv1d\", \"name\": "
	          "\"c1\", \"in\": 1, \"out\": 2, \"kernel\": 2}, {\"type\": \"relu\"}, {\"type\": "
	          "\"global_avgpool\"}, {\"type\": \"dense\", \"name\": \"fc\", \"in\": 2, "
	          "\"out\": 2}, {\"type\": \"softmax\"}]}");
	expect_error(&h, "tensor c1.weight: shape [2, 1, 3] does not match the architecture "
	                 "[2, 1, 2]", NULL);
	hand_init(&h);
	hand_field(&h, "fc.bias", "shape", "[1, 2]");
	expect_error(&h, "fc.bias", "shape");
	/* values */
	hand_init(&h);
	put_f32(h.data + 4 * 3, NAN);
	expect_error(&h, "tensor c1.weight", "NaN");
	hand_init(&h);
	put_f32(h.data + 4 * 13, -INFINITY);
	expect_error(&h, "tensor fc.bias", "Inf");
	/* tensors missing, extra, of another type */
	hand_init(&h);
	cJSON_DeleteItemFromObject(h.root, "fc.bias");
	expect_error(&h, "fc.bias", "missing");
	hand_init(&h);
	hand_tensor(&h, "fc.extra", "F32", "[2]", 56, 64);
	h.dlen += 8;
	expect_error(&h, "fc.extra", "extra");
	hand_init(&h);
	hand_field(&h, "c1.bias", "dtype", "\"F16\"");
	expect_error(&h, "c1.bias", "dtype F16");
	hand_init(&h);
	hand_field(&h, "c1.bias", "dtype", "\"I64\"");
	expect_error(&h, "c1.bias", "dtype I64");
	/* offsets */
	hand_init(&h);
	hand_field(&h, "c1.bias", "data_offsets", "[20, 28]");
	expect_error(&h, "overlap", NULL);
	hand_init(&h);
	hand_field(&h, "fc.bias", "data_offsets", "[52, 60]");
	expect_error(&h, "fc.bias", "beyond the data");
	hand_init(&h);
	hand_field(&h, "fc.bias", "data_offsets", "[48, 52]");
	expect_error(&h, "fc.bias", "data size");
	hand_init(&h);
	hand_field(&h, "fc.bias", "data_offsets", "[56, 48]");
	expect_error(&h, "fc.bias", "data_offsets");
	hand_init(&h);
	hand_field(&h, "fc.bias", "data_offsets", "[48]");
	expect_error(&h, "fc.bias", "data_offsets");
	hand_init(&h);
	hand_field(&h, "fc.bias", "data_offsets", "[48, \"56\"]");
	expect_error(&h, "fc.bias", "data_offsets");
	hand_init(&h);
	hand_field(&h, "c1.weight", "shape", "[4000000000, 4000000000]");
	expect_error(&h, "c1.weight", "too large");
	/* metadata */
	hand_init(&h);
	hand_meta(&h, "stride.labels", "[\"only one\"]");
	expect_error(&h, "labels", "1 labels but the network has 2 outputs");
	hand_init(&h);
	hand_meta(&h, "stride.labels", "[\"a\", 2]");
	expect_error(&h, "stride.labels", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.labels", "yes,no");
	expect_error(&h, "stride.labels", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.sample_rate", "100");
	expect_error(&h, "stride.sample_rate", "8000..384000");
	hand_init(&h);
	hand_meta(&h, "stride.sample_rate", "44100.5");
	expect_error(&h, "stride.sample_rate", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.sample_rate", "99999999999999999999");
	expect_error(&h, "stride.sample_rate", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.sample_rate", NULL);
	expect_error(&h, "stride.sample_rate", "missing");
	hand_init(&h);
	hand_meta(&h, "stride.format", "2");
	expect_error(&h, "unsupported format version", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.format", NULL);
	expect_error(&h, "stride.format", "missing");
	hand_init(&h);
	cJSON_DeleteItemFromObject(h.root, "__metadata__");
	expect_error(&h, "stride.format", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.task", "regress");
	expect_error(&h, "stride.task", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.window", "2"); /* shorter than the kernel */
	expect_error(&h, "stride.window", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.window", "-5");
	expect_error(&h, "stride.window", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.hop", "0");
	expect_error(&h, "stride.hop", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.input_gain", "0");
	expect_error(&h, "stride.input_gain", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.input_gain", "nan");
	expect_error(&h, "stride.input_gain", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.input_gain", "1e39");
	expect_error(&h, "stride.input_gain", NULL);
	hand_init(&h);
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(h.root, "__metadata__"), "user.note",
	                          cJSON_CreateNumber(3));
	expect_error(&h, "not a string", NULL);
	/* the architecture: our parser's errors and the network's, both prefixed */
	hand_init(&h);
	hand_meta(&h, "stride.architecture", "{\"layers\": [{\"type\": \"conv1d\", \"name\": "
	          "\"c1\", \"in\": 1, \"out\": 2, \"kernal\": 3}]}");
	expect_error(&h, "stride.architecture: layer 0 (conv1d): unknown key \"kernal\"", NULL);
	hand_init(&h);
	hand_meta(&h, "stride.architecture", "{\"layers\": [{\"type\": \"conv1d\", \"name\": "
	          "\"c1\", \"in\": 1, \"out\": 2, \"kernel\": 3}, {\"type\": \"dense\", \"name\": "
	          "\"fc\", \"in\": 3, \"out\": 2}]}");
	expect_error(&h, "stride.architecture", "fc");
	hand_init(&h);
	hand_meta(&h, "stride.architecture", "{\"layers\": [");
	expect_error(&h, "stride.architecture", "JSON");

	/* the container */
	hand_init(&h);
	size_t len;
	uint8_t *b = hand_bytes(&h, &len);
	b[len - h.dlen - 1] = ' '; /* the header's closing brace */
	expect_bytes_error(b, len, "not valid JSON", NULL);
	free(b);
	b = hand_bytes(&h, &len);
	uint64_t big = len - 7; /* one more than the file holds */
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(big >> (8 * i));
	expect_bytes_error(b, len, "header length", "larger than the file");
	free(b);
	expect_bytes_error((const uint8_t *)"1234567", 7, "too short", NULL);
	hand_free(&h);
}

/* Every prefix of a valid file is refused, and never read beyond. */
static void check_truncations(const uint8_t *b, size_t len)
{
	char err[STRIDE_ERR_LEN];
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n + 1);
		memcpy(cut, b, n);
		StrideModel *m = stride_model_read_memory(cut, n, "cut.safetensors", err);
		if (m)
			fail_msg("a file cut to %zu of %zu bytes loaded", n, len);
		if (strncmp(err, "cut.safetensors: ", 17) != 0)
			fail_msg("at %zu bytes: %s", n, err);
		free(cut);
	}
}

/* Single-byte changes may load or fail; whatever loads also runs. */
static void check_flips(const uint8_t *b, size_t len, size_t from, size_t to)
{
	static const uint8_t masks[] = {0x01, 0x04, 0x10, 0x20, 0x80, 0xff};
	char err[STRIDE_ERR_LEN];
	float x[4096];
	for (size_t i = 0; i < 4096; i++)
		x[i] = sinf((float)i * 0.1f);
	for (size_t i = from; i < to && i < len; i++) {
		for (size_t k = 0; k < sizeof masks; k++) {
			uint8_t *c = malloc(len);
			memcpy(c, b, len);
			c[i] ^= masks[k];
			StrideModel *m = stride_model_read_memory(c, len, "flip", err);
			if (m) {
				int cin = stride_net_in_channels(m->net);
				if ((size_t)m->window * (size_t)(cin > 0 ? cin : 1) <= 4096) {
					const float *y;
					int co, to2;
					stride_net_forward(m->net, x, 1, m->window, false, &y, &co, &to2, err);
				}
				stride_model_free(m);
			}
			free(c);
		}
	}
}

static void test_truncation_and_flips(void **state)
{
	(void)state;
	Hand h;
	hand_init(&h);
	size_t len;
	uint8_t *b = hand_bytes(&h, &len);
	check_truncations(b, len);
	check_flips(b, len, 0, len);
	free(b);
	hand_free(&h);
}

/* ------------------------------------------------------------------------ */
/* Save and load                                                            */
/* ------------------------------------------------------------------------ */

/* conv(1->8, k16, s4, pad 2), bn, leaky, avgpool 2, conv(8->4, k3, dil 2,
 * groups 2, no bias), tanh, global max, dense(4->3), sigmoid. */
static StrideNet *rich_net(void)
{
	const char *arch =
	    "{\"layers\": [{\"type\": \"conv1d\", \"name\": \"conv1\", \"in\": 1, \"out\": 8, "
	    "\"kernel\": 16, \"stride\": 4, \"padding\": 2}, {\"type\": \"batchnorm1d\", \"name\": "
	    "\"bn1\", \"channels\": 8, \"eps\": 0.001, \"momentum\": 0.3}, {\"type\": \"leaky_relu\", "
	    "\"slope\": 0.2}, {\"type\": \"avgpool1d\", \"kernel\": 2}, {\"type\": \"conv1d\", "
	    "\"name\": \"conv2\", \"in\": 8, \"out\": 4, \"kernel\": 3, \"dilation\": 2, "
	    "\"groups\": 2, \"bias\": false}, {\"type\": \"tanh\"}, {\"type\": \"global_maxpool\"}, "
	    "{\"type\": \"dense\", \"name\": \"head.fc\", \"in\": 4, \"out\": 3}, {\"type\": "
	    "\"sigmoid\"}]}";
	char err[STRIDE_ERR_LEN];
	int n;
	StrideLayerSpec *s = stride_arch_parse(arch, &n, err);
	if (!s)
		fail_msg("%s", err);
	StrideNet *net = stride_net_new(s, n, err);
	free(s);
	if (!net)
		fail_msg("%s", err);
	stride_net_init_params(net, 1234);
	/* running statistics away from their defaults */
	StrideTensor rm = stride_net_tensor(net, stride_net_find_tensor(net, "bn1.running_mean"));
	StrideTensor rv = stride_net_tensor(net, stride_net_find_tensor(net, "bn1.running_var"));
	for (int i = 0; i < 8; i++) {
		rm.data[i] = 0.1f * (float)i - 0.3f;
		rv.data[i] = 0.5f + 0.25f * (float)i;
	}
	return net;
}

static void assert_same_model(StrideModel *a, StrideModel *b)
{
	assert_int_equal(a->task, b->task);
	assert_int_equal(a->sample_rate, b->sample_rate);
	assert_int_equal(a->window, b->window);
	assert_int_equal(a->hop, b->hop);
	assert_true(bits_equal(a->input_gain, b->input_gain));
	assert_int_equal(a->n_labels, b->n_labels);
	for (int i = 0; i < a->n_labels; i++)
		assert_string_equal(a->labels[i], b->labels[i]);
	int nt = stride_net_n_tensors(a->net);
	assert_int_equal(nt, stride_net_n_tensors(b->net));
	for (int i = 0; i < nt; i++) {
		StrideTensor x = stride_net_tensor(a->net, i), y = stride_net_tensor(b->net, i);
		assert_string_equal(x.name, y.name);
		assert_int_equal(x.ndim, y.ndim);
		for (int d = 0; d < x.ndim; d++)
			assert_int_equal(x.shape[d], y.shape[d]);
		assert_int_equal(x.size, y.size);
		assert_memory_equal(x.data, y.data, x.size * sizeof(float));
	}
	assert_int_equal(a->n_meta, b->n_meta);
	for (int i = 0; i < a->n_meta; i++) {
		const char *v = stride_model_meta(b, a->meta_keys[i]);
		if (!v)
			fail_msg("metadata %s lost", a->meta_keys[i]);
		assert_string_equal(v, a->meta_values[i]);
	}
}

static void test_new_defaults(void **state)
{
	(void)state;
	const char *labels[3] = {"a", "b", "c"};
	char err[STRIDE_ERR_LEN] = "";
	StrideModel *m = stride_model_new(rich_net(), STRIDE_TASK_GATE, 48000, labels, 3, err);
	if (!m)
		fail_msg("%s", err);
	/* by hand: conv k16 s4 -> 16, x4; avgpool k2 s2 -> 16 + 1*4 = 20, x8;
	 * conv k3 d2 -> 20 + 2*2*8 = 52; the global pool ends the local part */
	assert_int_equal(m->window, 52);
	assert_int_equal(m->hop, 8);
	assert_true(m->input_gain == 1.0f);
	assert_string_equal(stride_model_meta(m, "stride.format"), "1");
	assert_string_equal(stride_model_meta(m, "stride.task"), "gate");
	assert_string_equal(stride_model_meta(m, "stride.sample_rate"), "48000");
	assert_string_equal(stride_model_meta(m, "stride.labels"), "[\"a\",\"b\",\"c\"]");
	assert_string_equal(stride_model_meta(m, "stride.window"), "52");
	assert_string_equal(stride_model_meta(m, "stride.hop"), "8");
	assert_string_equal(stride_model_meta(m, "stride.input_gain"), "1");
	assert_non_null(strstr(stride_model_meta(m, "stride.architecture"),
	                       "\"name\":\"head.fc\",\"in\":4,\"out\":3"));
	assert_null(stride_model_meta(m, "nothing"));
	assert_int_equal(stride_model_set_meta(m, "x", "1"), 0);
	assert_int_equal(stride_model_set_meta(m, "x", "2"), 0);
	assert_string_equal(stride_model_meta(m, "x"), "2");
	assert_int_equal(m->n_meta, 9);
	stride_model_free(m);

	/* refusals (the network is freed either way: leak checkers would see it) */
	assert_null(stride_model_new(rich_net(), STRIDE_TASK_GATE, 48000, labels, 2, err));
	assert_non_null(strstr(err, "labels"));
	assert_null(stride_model_new(rich_net(), STRIDE_TASK_GATE, 1000, labels, 3, err));
	assert_non_null(strstr(err, "sample_rate"));
	assert_null(stride_model_new(rich_net(), (StrideTask)7, 48000, labels, 3, err));
	assert_non_null(strstr(err, "task"));
	assert_null(stride_model_new(NULL, STRIDE_TASK_GATE, 48000, labels, 3, err));
}

static void test_save_load_bit_exact(void **state)
{
	(void)state;
	const char *labels[3] = {"kick", "snare \"2\"", "hat/é"};
	char err[STRIDE_ERR_LEN] = "";
	StrideModel *m = stride_model_new(rich_net(), STRIDE_TASK_CLASSIFY, 44100, labels, 3, err);
	assert_non_null(m);
	m->window = 1000;
	m->hop = 441;
	m->input_gain = 0.1f; /* not exact in decimal: %.9g must bring it back */
	assert_int_equal(stride_model_set_meta(m, "train.epochs", "12"), 0);
	assert_int_equal(stride_model_set_meta(m, "train.note", "line\n\"quoted\" \\ ü"), 0);
	/* the struct fields win over stale stride.* pairs */
	assert_int_equal(stride_model_set_meta(m, "stride.window", "999"), 0);
	const char *p1 = ts_tmp_path("m1.safetensors"), *p2 = ts_tmp_path("m2.safetensors");
	if (stride_model_write(m, p1, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(access(ts_tmp_path("m1.safetensors.tmp"), F_OK), -1);
	StrideModel *back = stride_model_read(p1, err);
	if (!back)
		fail_msg("%s", err);
	assert_string_equal(stride_model_meta(back, "stride.window"), "1000");
	assert_int_equal(stride_model_set_meta(m, "stride.window", "1000"), 0);
	assert_string_equal(stride_model_meta(back, "stride.input_gain"), "0.100000001");
	assert_int_equal(stride_model_set_meta(m, "stride.hop", "441"), 0);
	assert_int_equal(stride_model_set_meta(m, "stride.input_gain", "0.100000001"), 0);
	assert_same_model(m, back);
	/* the architecture came back layer for layer */
	int n = stride_net_n_layers(m->net);
	assert_int_equal(n, stride_net_n_layers(back->net));
	for (int i = 0; i < n; i++) {
		const StrideLayerSpec *a = stride_net_layer(m->net, i), *b = stride_net_layer(back->net, i);
		char *ja = stride_arch_to_json(a, 1), *jb = stride_arch_to_json(b, 1);
		assert_string_equal(ja, jb);
		free(ja);
		free(jb);
	}
	/* saving what was loaded gives the same bytes */
	assert_int_equal(stride_model_write(back, p2, err), 0);
	size_t l1, l2;
	uint8_t *b1 = ts_slurp(p1, &l1), *b2 = ts_slurp(p2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	/* the layout: padded header, data aligned to 8 */
	uint64_t hl = 0;
	for (int i = 7; i >= 0; i--)
		hl = hl << 8 | b1[i];
	assert_int_equal(hl % 8, 0);
	assert_int_equal(b1[8], '{');

	/* the saved file survives truncation at every length and header flips */
	check_truncations(b1, l1);
	check_flips(b1, l1, 0, 8 + (size_t)hl);
	check_flips(b1, l1, 8 + (size_t)hl, 8 + (size_t)hl + 64);
	free(b1);
	free(b2);
	stride_model_free(back);

	/* a NaN weight is not saved, and the previous file stays as it was */
	StrideTensor t = stride_net_tensor(m->net, stride_net_find_tensor(m->net, "head.fc.bias"));
	t.data[1] = NAN;
	assert_int_equal(stride_model_write(m, p2, err), -1);
	assert_non_null(strstr(err, "head.fc.bias"));
	assert_non_null(strstr(err, "NaN"));
	b1 = ts_slurp(p1, &l1);
	b2 = ts_slurp(p2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	free(b1);
	free(b2);
	t.data[1] = 0.5f;
	/* an inconsistent model is refused with the reason */
	m->hop = 0;
	assert_int_equal(stride_model_write(m, p2, err), -1);
	assert_non_null(strstr(err, "hop"));
	m->hop = 441;
	assert_int_equal(stride_model_write(m, ts_tmp_path("no/dir/m.safetensors"), err), -1);
	assert_non_null(strstr(err, "no/dir/m.safetensors"));
	stride_model_free(m);
}

/* ------------------------------------------------------------------------ */
/* PyTorch, through python/stride_torch and docs/MODEL_FORMAT.md's example     */
/* ------------------------------------------------------------------------ */

/* The first ```python block of the format document (its example script), as
 * stride_format.py. */
static void extract_doc_module(void)
{
	char path[TS_PATH_LEN];
	ts_path(path, "%s/docs/MODEL_FORMAT.md", ts_env_or("STRIDE_SRC", "."));
	size_t len;
	uint8_t *doc = ts_slurp(path, &len);
	const char *start = strstr((char *)doc, "```python\n");
	assert_non_null(start);
	start += strlen("```python\n");
	const char *end = strstr(start, "\n```");
	assert_non_null(end);
	FILE *f = fopen(ts_tmp_path("stride_format.py"), "w");
	assert_non_null(f);
	fwrite(start, 1, (size_t)(end - start) + 1, f);
	fclose(f);
	free(doc);
}

static float *read_npy(const char *name, int *ndim, int64_t *shape)
{
	float *d;
	char err[STRIDE_ERR_LEN];
	if (stride_npy_read(ts_tmp_path(name), &d, ndim, shape, err) != 0)
		fail_msg("%s", err);
	return d;
}

static void test_pytorch_export(void **state)
{
	(void)state;
	if (ts_under_valgrind()) {
		skip();
		return;
	}
	extract_doc_module();
	const char *script =
	    "import os, sys, runpy, numpy as np, torch\n"
	    "sys.path.insert(0, os.path.join(os.environ.get('STRIDE_SRC', '.'), 'python'))\n"
	    "import stride_torch\n"
	    "d = sys.argv[1]\n"
	    "sys.argv = ['detector.py', d + '/example.safetensors']\n"
	    "g = runpy.run_path(d + '/stride_format.py', run_name='__main__')\n"
	    "torch.manual_seed(7)\n"
	    "m = stride_torch.build(g['ARCHITECTURE'])\n"
	    "with torch.no_grad():\n"
	    "    for p in m.parameters():\n"
	    "        p.uniform_(-0.5, 0.5)\n"
	    "    m.bn1.running_mean.uniform_(-0.2, 0.2)\n"
	    "    m.bn1.running_var.uniform_(0.5, 2.0)\n"
	    "m.eval()\n"
	    "stride_torch.save(m, d + '/ref.safetensors', {'stride.task': 'gate',\n"
	    "                  'stride.sample_rate': 48000, 'stride.labels': ['open', 'closed'],\n"
	    "                  'stride.window': 400, 'stride.hop': 160, 'stride.input_gain': 0.5,\n"
	    "                  'k': 'v'})\n"
	    "x = torch.from_numpy(np.sin(np.arange(800, dtype=np.float32) * np.float32(0.05))"
	    ".reshape(2, 1, 400))\n"
	    "np.save(d + '/ref_x.npy', x.numpy())\n"
	    "np.save(d + '/ref_y.npy', m(x).detach().numpy())\n"
	    "for name, t in m.state_dict().items():\n"
	    "    if t.dtype == torch.float32:\n"
	    "        np.save(d + '/w_' + name + '.npy', t.numpy())\n";
	assert_int_equal(ts_run_python(script), 0);

	/* the document's own example */
	char err[STRIDE_ERR_LEN] = "";
	StrideModel *m = stride_model_read(ts_tmp_path("example.safetensors"), err);
	if (!m)
		fail_msg("%s", err);
	assert_int_equal(m->task, STRIDE_TASK_CLASSIFY);
	assert_int_equal(m->sample_rate, 16000);
	assert_int_equal(m->n_labels, 2);
	assert_string_equal(m->labels[0], "speech");
	assert_int_equal(m->window, 72); /* as the document says */
	assert_int_equal(m->hop, 32);
	assert_string_equal(stride_model_meta(m, "train.note"), "example");
	assert_int_equal(stride_net_n_layers(m->net), 9);
	stride_model_free(m);

	/* random weights: the same values, and the same output as PyTorch */
	m = stride_model_read(ts_tmp_path("ref.safetensors"), err);
	if (!m)
		fail_msg("%s", err);
	assert_int_equal(m->task, STRIDE_TASK_GATE);
	assert_int_equal(m->sample_rate, 48000);
	assert_int_equal(m->window, 400);
	assert_int_equal(m->hop, 160);
	assert_true(m->input_gain == 0.5f);
	assert_string_equal(stride_model_meta(m, "k"), "v");
	int nd;
	int64_t sh[8];
	for (int i = 0; i < stride_net_n_tensors(m->net); i++) {
		StrideTensor t = stride_net_tensor(m->net, i);
		char name[128];
		snprintf(name, sizeof name, "w_%s.npy", t.name);
		float *w = read_npy(name, &nd, sh);
		assert_int_equal(nd, t.ndim);
		assert_memory_equal(w, t.data, t.size * sizeof(float));
		free(w);
	}
	float *x = read_npy("ref_x.npy", &nd, sh);
	float *yref = read_npy("ref_y.npy", &nd, sh);
	assert_int_equal(nd, 3); /* (batch, outputs, steps), as the C network's */
	const float *y;
	int c, t;
	if (stride_net_forward(m->net, x, 2, 400, false, &y, &c, &t, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c, 2);
	assert_int_equal(t, 1);
	for (int i = 0; i < 4; i++)
		assert_float_equal(y[i], yref[i], 1e-5);

	/* ours, read back by the document's loader into PyTorch */
	assert_int_equal(stride_model_set_meta(m, "k", "w"), 0);
	assert_int_equal(stride_model_write(m, ts_tmp_path("ours.safetensors"), err), 0);
	const char *reader =
	    "import json, os, sys, numpy as np, torch\n"
	    "sys.path.insert(0, os.path.join(os.environ.get('STRIDE_SRC', '.'), 'python'))\n"
	    "import stride_torch\n"
	    "d = sys.argv[1]\n"
	    "m, meta = stride_torch.load(d + '/ours.safetensors')\n"
	    "assert meta['k'] == 'w' and json.loads(meta['stride.labels']) == ['open', 'closed'], meta\n"
	    "assert meta['stride.task'] == 'gate' and meta['stride.window'] == '400', meta\n"
	    "assert len(json.loads(meta['stride.architecture'])['layers']) == 9\n"
	    "for k, v in m.state_dict().items():\n"
	    "    if v.dtype == torch.float32:\n"
	    "        assert np.array_equal(v.numpy(), np.load(d + '/w_' + k + '.npy')), k\n"
	    "y = m(torch.from_numpy(np.load(d + '/ref_x.npy'))).detach().numpy()\n"
	    "assert np.array_equal(y, np.load(d + '/ref_y.npy'))\n";
	assert_int_equal(ts_run_python(reader), 0);
	free(x);
	free(yref);
	stride_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_made_loads),
		cmocka_unit_test(test_hand_made_errors),
		cmocka_unit_test(test_truncation_and_flips),
		cmocka_unit_test(test_new_defaults),
		cmocka_unit_test(test_save_load_bit_exact),
		cmocka_unit_test(test_pytorch_export),
	};
	return cmocka_run_group_tests(tests, ts_tmpdir_setup, ts_tmpdir_teardown);
}
