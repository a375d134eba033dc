/* Architecture JSON: a hand-written document parses to the expected specs,
 * defaults are PyTorch's, parse(to_json(x)) == x for every layer type, and
 * every kind of mistake is an error naming the layer and the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stride.h"

static void test_parse_hand_written(void **state)
{
	(void)state;
	const char *doc =
	    "{\"layers\": [\n"
	    " {\"type\": \"conv1d\", \"name\": \"conv1\", \"in\": 1, \"out\": 16, \"kernel\": 64,\n"
	    "  \"stride\": 16, \"dilation\": 2, \"padding\": 3, \"groups\": 1, \"bias\": false},\n"
	    " {\"type\": \"batchnorm1d\", \"name\": \"bn1\", \"channels\": 16, \"eps\": 0.001,\n"
	    "  \"momentum\": 0.25},\n"
	    " {\"type\": \"leaky_relu\", \"slope\": 0.2},\n"
	    " {\"type\": \"maxpool1d\", \"kernel\": 4, \"stride\": 2, \"padding\": 1},\n"
	    " {\"type\": \"avgpool1d\", \"kernel\": 3},\n"
	    " {\"type\": \"relu\", \"name\": \"act\"}, {\"type\": \"tanh\"}, {\"type\": \"sigmoid\"},\n"
	    " {\"type\": \"global_avgpool\"}, {\"type\": \"global_maxpool\"},\n"
	    " {\"type\": \"dense\", \"name\": \"fc\", \"in\": 16, \"out\": 3},\n"
	    " {\"type\": \"softmax\"}\n"
	    "]}";
	char err[STRIDE_ERR_LEN] = "";
	int n = 0;
	StrideLayerSpec *s = stride_arch_parse(doc, &n, err);
	if (!s)
		fail_msg("%s", err);
	assert_int_equal(n, 12);
	assert_int_equal(s[0].type, STRIDE_CONV1D);
	assert_string_equal(s[0].name, "conv1");
	assert_int_equal(s[0].in, 1);
	assert_int_equal(s[0].out, 16);
	assert_int_equal(s[0].kernel, 64);
	assert_int_equal(s[0].stride, 16);
	assert_int_equal(s[0].dilation, 2);
	assert_int_equal(s[0].padding, 3);
	assert_int_equal(s[0].groups, 1);
	assert_false(s[0].bias);
	assert_int_equal(s[1].type, STRIDE_BATCHNORM1D);
	assert_string_equal(s[1].name, "bn1");
	assert_int_equal(s[1].channels, 16);
	assert_true(s[1].eps == 0.001f);
	assert_true(s[1].momentum == 0.25f);
	assert_int_equal(s[2].type, STRIDE_LEAKY_RELU);
	assert_true(s[2].slope == 0.2f);
	assert_int_equal(s[3].type, STRIDE_MAXPOOL1D);
	assert_int_equal(s[3].kernel, 4);
	assert_int_equal(s[3].stride, 2);
	assert_int_equal(s[3].padding, 1);
	assert_int_equal(s[4].type, STRIDE_AVGPOOL1D);
	assert_int_equal(s[4].kernel, 3);
	assert_int_equal(s[4].stride, 0); /* = kernel, as PyTorch's stride=None */
	assert_int_equal(s[4].padding, 0);
	assert_int_equal(s[5].type, STRIDE_RELU);
	assert_string_equal(s[5].name, "act");
	assert_int_equal(s[6].type, STRIDE_TANH);
	assert_string_equal(s[6].name, "");
	assert_int_equal(s[7].type, STRIDE_SIGMOID);
	assert_int_equal(s[8].type, STRIDE_GLOBAL_AVGPOOL);
	assert_int_equal(s[9].type, STRIDE_GLOBAL_MAXPOOL);
	assert_int_equal(s[10].type, STRIDE_DENSE);
	assert_string_equal(s[10].name, "fc");
	assert_int_equal(s[10].in, 16);
	assert_int_equal(s[10].out, 3);
	assert_true(s[10].bias);
	assert_int_equal(s[11].type, STRIDE_SOFTMAX);
	free(s);
}

/* Optional fields take PyTorch's defaults. */
static void test_defaults(void **state)
{
	(void)state;
	const char *doc = "{\"layers\": [{\"type\": \"conv1d\", \"name\": \"c\", \"in\": 2, "
	                  "\"out\": 4, \"kernel\": 3}, {\"type\": \"batchnorm1d\", \"name\": \"b\", "
	                  "\"channels\": 4}, {\"type\": \"leaky_relu\"}, {\"type\": \"dense\", "
	                  "\"name\": \"d\", \"in\": 4, \"out\": 1}]}";
	char err[STRIDE_ERR_LEN];
	int n;
	StrideLayerSpec *s = stride_arch_parse(doc, &n, err);
	assert_non_null(s);
	assert_int_equal(n, 4);
	assert_int_equal(s[0].stride, 1);
	assert_int_equal(s[0].dilation, 1);
	assert_int_equal(s[0].padding, 0);
	assert_int_equal(s[0].groups, 1);
	assert_true(s[0].bias);
	assert_true(s[1].eps == 1e-5f);
	assert_true(s[1].momentum == 0.1f);
	assert_true(s[2].slope == 0.01f);
	assert_true(s[3].bias);
	free(s);
}

static int same_spec(const StrideLayerSpec *a, const StrideLayerSpec *b)
{
	if (a->type != b->type || strcmp(a->name, b->name) != 0)
		return 0;
	switch (a->type) {
	case STRIDE_CONV1D:
		return a->in == b->in && a->out == b->out && a->kernel == b->kernel &&
		       a->stride == b->stride && a->dilation == b->dilation &&
		       a->padding == b->padding && a->groups == b->groups && a->bias == b->bias;
	case STRIDE_MAXPOOL1D:
	case STRIDE_AVGPOOL1D:
		return a->kernel == b->kernel && a->stride == b->stride && a->padding == b->padding;
	case STRIDE_BATCHNORM1D:
		return a->channels == b->channels && a->eps == b->eps && a->momentum == b->momentum;
	case STRIDE_DENSE:
		return a->in == b->in && a->out == b->out && a->bias == b->bias;
	case STRIDE_LEAKY_RELU:
		return a->slope == b->slope;
	case STRIDE_LOG:
		return a->eps == b->eps;
	default:
		return 1;
	}
}

/* parse(to_json(x)) == x, with awkward float values, and to_json is stable. */
static void test_round_trip(void **state)
{
	(void)state;
	StrideLayerSpec s[STRIDE_N_LAYER_TYPES];
	for (int i = 0; i < STRIDE_N_LAYER_TYPES; i++)
		s[i] = stride_layer_spec_defaults((StrideLayerType)i);
	strcpy(s[STRIDE_CONV1D].name, "conv.1-a_B");
	s[STRIDE_CONV1D].in = 8;
	s[STRIDE_CONV1D].out = 12;
	s[STRIDE_CONV1D].kernel = 65536;
	s[STRIDE_CONV1D].stride = 7;
	s[STRIDE_CONV1D].dilation = 3;
	s[STRIDE_CONV1D].padding = 65535;
	s[STRIDE_CONV1D].groups = 4;
	s[STRIDE_CONV1D].bias = false;
	s[STRIDE_MAXPOOL1D].kernel = 5;
	s[STRIDE_MAXPOOL1D].stride = 3;
	s[STRIDE_MAXPOOL1D].padding = 2;
	s[STRIDE_AVGPOOL1D].kernel = 2;
	strcpy(s[STRIDE_BATCHNORM1D].name, "bn");
	s[STRIDE_BATCHNORM1D].channels = 4096;
	s[STRIDE_BATCHNORM1D].eps = 1.17549435e-38f * 3.0f;
	s[STRIDE_BATCHNORM1D].momentum = 1.0f / 3.0f;
	strcpy(s[STRIDE_DENSE].name, "fc");
	s[STRIDE_DENSE].in = 4194304;
	s[STRIDE_DENSE].out = 1;
	s[STRIDE_LEAKY_RELU].slope = -0.1f;
	s[STRIDE_LOG].eps = 1e-9f;
	strcpy(s[STRIDE_SIGMOID].name, "named_activation");
	char *json = stride_arch_to_json(s, STRIDE_N_LAYER_TYPES);
	assert_non_null(json);
	char err[STRIDE_ERR_LEN] = "";
	int n;
	StrideLayerSpec *back = stride_arch_parse(json, &n, err);
	if (!back)
		fail_msg("%s\n%s", err, json);
	assert_int_equal(n, STRIDE_N_LAYER_TYPES);
	for (int i = 0; i < n; i++) {
		if (!same_spec(&s[i], &back[i]))
			fail_msg("layer %d differs after the round trip: %s", i, json);
	}
	char *again = stride_arch_to_json(back, n);
	assert_string_equal(json, again);
	/* every field is written, defaults too; short floats stay short */
	assert_non_null(strstr(json, "\"dilation\":3"));
	assert_non_null(strstr(json, "\"bias\":false"));
	assert_non_null(strstr(json, "\"slope\":-0.1"));
	assert_non_null(strstr(json, "\"eps\":")); /* even for a default */
	assert_non_null(strstr(json, "\"groups\":4"));
	free(json);
	free(again);
	free(back);

	/* defaults are written as-is and come back the same */
	StrideLayerSpec d = stride_layer_spec_defaults(STRIDE_BATCHNORM1D);
	strcpy(d.name, "b");
	d.channels = 3;
	json = stride_arch_to_json(&d, 1);
	assert_string_equal(json, "{\"layers\":[{\"type\":\"batchnorm1d\",\"name\":\"b\","
	                          "\"channels\":3,\"eps\":1e-05,\"momentum\":0.1}]}");
	free(json);
}

/* A parsed architecture builds a network; the chaining checks are the network's. */
static void test_builds_network(void **state)
{
	(void)state;
	const char *doc = "{\"layers\": [{\"type\": \"conv1d\", \"name\": \"c1\", \"in\": 1, "
	                  "\"out\": 4, \"kernel\": 8, \"stride\": 4}, {\"type\": \"relu\"}, "
	                  "{\"type\": \"global_avgpool\"}, {\"type\": \"dense\", \"name\": \"fc\", "
	                  "\"in\": 4, \"out\": 2}]}";
	char err[STRIDE_ERR_LEN];
	int n;
	StrideLayerSpec *s = stride_arch_parse(doc, &n, err);
	assert_non_null(s);
	StrideNet *net = stride_net_new(s, n, err);
	assert_non_null(net);
	assert_int_equal(stride_net_n_tensors(net), 4);
	assert_int_not_equal(stride_net_find_tensor(net, "c1.weight"), -1);
	assert_int_not_equal(stride_net_find_tensor(net, "fc.bias"), -1);
	stride_net_free(net);
	s[3].in = 5; /* parses fine, does not chain */
	assert_null(stride_net_new(s, n, err));
	free(s);
}

static void expect_error(const char *doc, const char *w1, const char *w2)
{
	char err[STRIDE_ERR_LEN] = "";
	int n = 99;
	StrideLayerSpec *s = stride_arch_parse(doc, &n, err);
	if (s) {
		free(s);
		fail_msg("accepted: %s", doc);
	}
	assert_int_equal(n, 0);
	if (getenv("SHOW_ERR"))
		printf("%s\n", err);
	if (!strstr(err, w1) || (w2 && !strstr(err, w2)))
		fail_msg("error \"%s\" lacks \"%s\" or \"%s\" (document %s)", err, w1, w2 ? w2 : "",
		         doc);
}

#define CONV(extra) "{\"layers\": [{\"type\": \"relu\"}, {\"type\": \"conv1d\", \"name\": \"c\", " \
	"\"in\": 1, \"out\": 2, \"kernel\": 3" extra "}]}"

static void test_errors(void **state)
{
	(void)state;
	/* the fault and the layer index it is in */
	expect_error("{\"layers\": [{\"type\": \"relu\"}, {\"type\": \"conv2d\"}]}", "layer 1",
	             "unknown type \"conv2d\"");
	expect_error(CONV(", \"kernal\": 3"), "layer 1", "unknown key \"kernal\"");
	expect_error(CONV(", \"slope\": 3"), "layer 1", "unknown key \"slope\"");
	expect_error("{\"layers\": [{\"type\": \"relu\", \"kernel\": 3}]}", "layer 0",
	             "unknown key \"kernel\"");
	expect_error("{\"layers\": [{\"type\": \"conv1d\", \"in\": 1, \"out\": 2, \"kernel\": 3}]}",
	             "layer 0", "missing \"name\"");
	expect_error("{\"layers\": [{\"type\": \"dense\", \"name\": \"d\", \"in\": 1}]}", "layer 0",
	             "missing \"out\"");
	expect_error("{\"layers\": [{\"type\": \"batchnorm1d\", \"name\": \"b\"}]}", "layer 0",
	             "missing \"channels\"");
	expect_error("{\"layers\": [{\"type\": \"maxpool1d\"}]}", "layer 0", "missing \"kernel\"");
	expect_error("{\"layers\": [{\"name\": \"x\"}]}", "layer 0", "missing \"type\"");
	expect_error("{\"layers\": [{\"type\": 3}]}", "layer 0", "type");
	expect_error("{\"layers\": [{\"type\": \"conv1d\", \"name\": \"c\", \"in\": 1, \"out\": 2, "
	             "\"kernel\": 3.5}]}", "layer 0", "\"kernel\" must be an integer");
	expect_error(CONV(", \"stride\": \"2\""), "layer 1", "\"stride\" must be an integer");
	expect_error(CONV(", \"stride\": -2"), "layer 1", "\"stride\" is -2");
	expect_error(CONV(", \"stride\": 0"), "layer 1", "\"stride\"");
	expect_error(CONV(", \"dilation\": 0"), "layer 1", "\"dilation\"");
	expect_error(CONV(", \"padding\": -1"), "layer 1", "\"padding\"");
	expect_error(CONV(", \"padding\": 65536"), "layer 1", "\"padding\"");
	expect_error(CONV(", \"groups\": 0"), "layer 1", "\"groups\"");
	expect_error(CONV(", \"bias\": 1"), "layer 1", "\"bias\" must be true or false");
	expect_error(CONV(", \"stride\": 1e999"), "layer 1", "\"stride\" must be an integer");
	expect_error(CONV(", \"stride\": 65537"), "layer 1", "\"stride\" is 65537");
	expect_error(CONV(", \"kernel\": 5"), "layer 1", "appears twice");
	expect_error("{\"layers\": [{\"type\": \"conv1d\", \"name\": \"c\", \"in\": 1, "
	             "\"out\": 100000, \"kernel\": 3}]}", "layer 0", "\"out\" is 100000");
	expect_error("{\"layers\": [{\"type\": \"batchnorm1d\", \"name\": \"b\", "
	             "\"channels\": 1000000000000}]}", "layer 0", "\"channels\"");
	expect_error("{\"layers\": [{\"type\": \"conv1d\", \"name\": \"c\", \"in\": 1, "
	             "\"out\": 1, \"kernel\": 65537}]}", "layer 0", "\"kernel\"");
	expect_error("{\"layers\": [{\"type\": \"dense\", \"name\": \"d\", \"in\": 4194305, "
	             "\"out\": 1}]}", "layer 0", "\"in\"");
	expect_error("{\"layers\": [{\"type\": \"batchnorm1d\", \"name\": \"b\", \"channels\": 2, "
	             "\"eps\": 0}]}", "layer 0", "\"eps\"");
	expect_error("{\"layers\": [{\"type\": \"batchnorm1d\", \"name\": \"b\", \"channels\": 2, "
	             "\"eps\": 1e300}]}", "layer 0", "\"eps\"");
	expect_error("{\"layers\": [{\"type\": \"batchnorm1d\", \"name\": \"b\", \"channels\": 2, "
	             "\"momentum\": 1.5}]}", "layer 0", "\"momentum\"");
	expect_error("{\"layers\": [{\"type\": \"leaky_relu\", \"slope\": null}]}", "layer 0",
	             "\"slope\"");
	expect_error("{\"layers\": [{\"type\": \"maxpool1d\", \"kernel\": 2, \"stride\": -1}]}",
	             "layer 0", "\"stride\"");
	/* names */
	expect_error("{\"layers\": [{\"type\": \"dense\", \"name\": \"a b\", \"in\": 1, "
	             "\"out\": 1}]}", "layer 0", "\"name\"");
	expect_error("{\"layers\": [{\"type\": \"dense\", \"name\": \"\", \"in\": 1, \"out\": 1}]}",
	             "layer 0", "\"name\"");
	expect_error("{\"layers\": [{\"type\": \"dense\", \"name\": "
	             "\"a123456789012345678901234567890123456789012345678901234567890123\", "
	             "\"in\": 1, \"out\": 1}]}", "layer 0", "\"name\"");
	expect_error("{\"layers\": [{\"type\": \"dense\", \"name\": 5, \"in\": 1, \"out\": 1}]}",
	             "layer 0", "\"name\"");
	/* the document */
	expect_error("{\"layers\": [{\"type\": \"relu\"}", "not valid JSON", NULL);
	expect_error("", "not valid JSON", NULL);
	expect_error("[]", "not a JSON object", NULL);
	expect_error("{\"layers\": []}", "0 layers", NULL);
	expect_error("{}", "\"layers\"", NULL);
	expect_error("{\"layers\": {}}", "\"layers\"", NULL);
	expect_error("{\"layers\": [{\"type\": \"relu\"}], \"version\": 1}", "unknown key \"version\"",
	             NULL);
	expect_error("{\"layers\": [{\"type\": \"relu\"}], \"layers\": []}", "twice", NULL);
	expect_error("{\"layers\": [{\"type\": \"relu\"}, 3]}", "layer 1", "not a JSON object");
	expect_error("{\"layers\": [{\"type\": \"relu\"}]} trailing", "not valid JSON", NULL);

	/* 256 layers are fine, 257 are not */
	size_t cap = 300 * 20 + 32;
	char *doc = malloc(cap);
	for (int count = 256; count <= 257; count++) {
		strcpy(doc, "{\"layers\": [");
		for (int i = 0; i < count; i++)
			strcat(doc, i ? ", {\"type\": \"relu\"}" : "{\"type\": \"relu\"}");
		strcat(doc, "]}");
		char err[STRIDE_ERR_LEN];
		int n;
		StrideLayerSpec *s = stride_arch_parse(doc, &n, err);
		if (count == 256) {
			assert_non_null(s);
			assert_int_equal(n, 256);
		} else {
			assert_null(s);
			assert_non_null(strstr(err, "257 layers"));
		}
		free(s);
	}
	free(doc);
	char err[STRIDE_ERR_LEN];
	int n;
	assert_null(stride_arch_parse(NULL, &n, err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_hand_written),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_builds_network),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
