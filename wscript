#!/usr/bin/env python3
# Stride's build: the dsp library, the `stride` CLI, the LV2 bundle (stride.lv2), the build
# tools (tools/), the tests and benchmarks.
#
#   ./waf configure [--lv2-user] [--no-asan] [--prefix=...]
#   ./waf build            the library, CLI, bundle, tests and benchmarks
#   ./waf test             build, then run the whole suite (exits non-zero on any failure)
#   ./waf bench            build, then run the benchmarks (they print numbers)
#   ./waf fuzz             build the libFuzzer targets (clang) and run each (--fuzz-seconds)
#   ./waf install          install the CLI and the bundle
import os
import subprocess
import sys
import time

from waflib import Context, Logs, Options
from waflib.Build import BuildContext

APPNAME = "stride"
# The one place the CLI's version is written: the build passes it to the code
# that prints it (cli/main.c, and tests/test_cli.c that checks it) as STRIDE_VERSION.
VERSION = "0.1.0"
VERSION_DEFINE = 'STRIDE_VERSION="%s"' % VERSION
# The plugins' version (lv2:minorVersion, lv2:microVersion): LV2 reads odd
# numbers as development versions, so a release steps them by two.
LV2_VERSION = "0.2.0"
top = "."
out = "build"

# Each dependency: pkg-config name, what the build uses it as, the Debian package.
DEPS = [
    ("openblas", "BLAS", "libopenblas-dev"),
    ("sndfile", "SNDFILE", "libsndfile1-dev"),
    ("samplerate", "SAMPLERATE", "libsamplerate0-dev"),
    ("libcjson", "CJSON", "libcjson-dev"),
    ("cmocka", "CMOCKA", "libcmocka-dev"),
    ("lv2", "LV2", "lv2-dev"),
    ("lilv-0", "LILV", "liblilv-dev"),
    # the plugins draw Ardour's inline display with it (plugin/display.c)
    ("cairo", "CAIRO", "libcairo2-dev"),
    # the baseline detectors of the gate benchmark (bench/vad_*, bench/gate_real.py)
    ("webrtc-audio-processing", "WEBRTC", "libwebrtc-audio-processing-dev"),
    ("speexdsp", "SPEEXDSP", "libspeexdsp-dev"),
]

WARNINGS = ["-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Wshadow", "-Wstrict-prototypes",
            "-Wmissing-prototypes", "-Wvla", "-Wformat=2", "-Wundef"]
# C++ (only bench/vad_webrtc.cpp: its Debian library is C++ only): the same, less the C-only ones.
CXX_WARNINGS = [w for w in WARNINGS if w not in ("-Wstrict-prototypes", "-Wmissing-prototypes")] + [
    "-Wmissing-declarations"]

SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer"]

# The fuzz targets (fuzz/fuzz_*.c): libFuzzer drives them, ASan, UBSan and
# LeakSanitizer turn a fault into a crash. The library is instrumented for
# coverage without libFuzzer's main; only the targets link it.
FUZZ_SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                 "-fno-omit-frame-pointer"]
FUZZ_CFLAGS = FUZZ_SANITIZE + ["-fsanitize=fuzzer-no-link"]
FUZZ_LINKFLAGS = FUZZ_SANITIZE + ["-fsanitize=fuzzer"]
# Seconds each target runs in ./waf test (two targets: about two minutes).
FUZZ_TEST_SECONDS = 60

def options(opt):
    opt.load("compiler_c compiler_cxx")
    opt.add_option("--lv2-user", action="store_true", default=False,
                   help="install LV2 bundles into ~/.lv2 instead of PREFIX/lib/lv2")
    opt.add_option("--no-asan", action="store_true", default=False,
                   help="skip the ASan+UBSan variant (faster builds while developing)")
    opt.add_option("--only", action="store", default="",
                   help="test: run only the test programs whose name contains this")
    opt.add_option("--fuzz-seconds", action="store", type="int", default=None,
                   help="fuzz: seconds per fuzz target (default 60; also for the fuzz "
                        "runs in ./waf test)")


def configure(conf):
    conf.load("compiler_c")
    try:
        conf.load("compiler_cxx")
    except conf.errors.ConfigurationError:
        conf.fatal("no C++ compiler (bench/vad_webrtc.cpp needs one): install the Debian package g++")
    for pkg, uselib, debian in DEPS:
        conf.check_cfg(package=pkg, uselib_store=uselib, args=["--cflags", "--libs"],
                       errmsg="not found: install the Debian package %s" % debian)
    # WebRTC's headers do not build with our warnings: include them as system headers.
    conf.env.CXXFLAGS_WEBRTC = [f for d in conf.env.INCLUDES_WEBRTC for f in ("-isystem", d)]
    conf.env.INCLUDES_WEBRTC = []
    conf.check_cc(lib="m", uselib_store="M")
    # The real-host tests (tests/hosts/) drive jalv through JACK with a small client of ours;
    # without libjack that client is not built and the jalv test fails, saying so.
    conf.check_cfg(package="jack", uselib_store="JACK", args=["--cflags", "--libs"],
                   mandatory=False, errmsg="not found (libjack-jackd2-dev): the jalv test will fail")
    conf.check_cc(fragment="#include <cblas.h>\nint main(void){return (int)cblas_sdot(0,0,1,0,1);}\n",
                  use="BLAS", msg="Checking for cblas.h", errmsg="install libopenblas-dev")

    # The system Python runs the PyTorch reference tests (python3-torch installs for it).
    conf.find_program("python3", var="SYSPYTHON", path_list=["/usr/bin"])
    conf.start_msg("Checking for PyTorch (python3-torch)")
    try:
        v = conf.cmd_and_log(conf.env.SYSPYTHON + ["-c", "import torch; print(torch.__version__)"],
                             quiet=Context.BOTH).strip()
        conf.end_msg(v)
    except Exception:
        conf.end_msg("not found", "YELLOW")
        conf.fatal("PyTorch is needed by the tests: install the Debian package python3-torch")
    conf.find_program("valgrind", var="VALGRIND", mandatory=False)

    conf.env.append_unique("CFLAGS", ["-std=c11", "-O2", "-g", "-fPIC"] + WARNINGS)
    conf.env.append_unique("CXXFLAGS", ["-std=c++11", "-O2", "-g"] + CXX_WARNINGS)
    if conf.env.CC_NAME == "clang":
        # clang 14 writes DWARF 5, which Debian 12's valgrind cannot read
        conf.env.append_unique("CFLAGS", ["-gdwarf-4"])
    conf.env.append_unique("DEFINES", ["_POSIX_C_SOURCE=200809L"])
    conf.env.LV2_USER = Options.options.lv2_user
    conf.env.NO_ASAN = Options.options.no_asan

    base = conf.env.derive()
    conf.setenv("asan", base)
    conf.env.append_unique("CFLAGS", SANITIZE)
    conf.env.append_unique("LINKFLAGS", SANITIZE)
    conf.env.append_unique("DEFINES", ["STRIDE_SANITIZED=1"])
    configure_fuzz(conf, base)
    conf.setenv("")


def configure_fuzz(conf, base):
    """The "fuzz" variant: clang with libFuzzer. A machine without them still
    configures, but ./waf fuzz and the fuzz tests fail, naming the package
    (FUZZ_MISSING), rather than skipping."""
    conf.setenv("fuzz", base)
    conf.env.FUZZ_MISSING = ""
    if base.CC_NAME == "clang":
        clang = base.CC
    else:
        clang = conf.find_program(["clang", "clang-14"], var="FUZZ_CLANG", mandatory=False)
    if not clang:
        conf.env.FUZZ_MISSING = "clang is not installed: install the Debian package clang"
        return
    conf.env.CC = conf.env.LINK_CC = clang
    conf.env.CC_NAME = "clang"
    conf.env.append_unique("CFLAGS", ["-gdwarf-4"])
    ok = conf.check_cc(fragment="#include <stddef.h>\n#include <stdint.h>\n"
                                "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\n"
                                "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)"
                                "{ return (int)(n && d[0]); }\n",
                       cflags=FUZZ_CFLAGS, linkflags=FUZZ_LINKFLAGS, mandatory=False,
                       msg="Checking for libFuzzer (clang -fsanitize=fuzzer)",
                       errmsg="no: install the Debian package libclang-rt-14-dev")
    if not ok:
        conf.env.FUZZ_MISSING = ("clang cannot link -fsanitize=fuzzer (libFuzzer): install "
                                 "the Debian package libclang-rt-14-dev")
        return
    conf.env.append_unique("CFLAGS", FUZZ_CFLAGS)
    conf.env.append_unique("DEFINES", ["STRIDE_SANITIZED=1", "STRIDE_FUZZING=1"])


def build(bld):
    if bld.variant == "fuzz":
        build_fuzz(bld)
        return
    if bld.variant == "asan" and bld.env.NO_ASAN:
        return
    # dsp needs no audio-file library (its resampler is its own); the CLI reads
    # files with libsndfile and resamples them with libsamplerate.
    dsp_libs = ["BLAS", "CJSON", "M"]
    libs = dsp_libs + ["SNDFILE", "SAMPLERATE"]
    dsp = dsp_sources(bld, "gemm_blas.c")
    bld.stlib(source=dsp, target="stride_dsp", includes="dsp", export_includes="dsp",
              use=dsp_libs)

    cli = bld.path.ant_glob("cli/*.c", excl=["cli/main.c"])
    if cli:
        bld.stlib(source=cli, target="stride_cli", includes="cli dsp", export_includes="cli",
                  use=["stride_dsp"] + libs)
    cli_use = (["stride_cli"] if cli else []) + ["stride_dsp"] + libs
    if bld.path.find_node("cli/main.c"):
        bld.program(source="cli/main.c", target="stride", use=cli_use, defines=[VERSION_DEFINE],
                    install_path=None if bld.variant else "${BINDIR}")

    # <build>/libstride_data.so: the library and the trainer's data pipeline
    # (cli/data_api.h) for other trainers; python/stride_torch loads it with ctypes.
    if cli and not bld.variant:
        bld.shlib(source=dsp + cli, target="stride_data", includes="cli dsp", use=libs,
                  install_path=None)

    # Tests that need more than the library: the plugin tests load the bundle
    # through lilv, and the real-time test must not link OpenBLAS (its threads)
    # and exports its malloc and lock wrappers so the plugins call them.
    rt_use = ["stride_dsp_rt", "CJSON", "M"]
    host_use = ["stride_lv2_host", "LILV", "LV2", "CMOCKA"]
    test_extra = {
        "test_plugin_host": dict(use=host_use + rt_use + ["SNDFILE", "SAMPLERATE"],
                                 includes="tests plugin dsp"),
        "test_rt_safety": dict(use=host_use + ["M"], includes="tests plugin dsp",
                               linkflags=["-rdynamic"]),
        "test_ttl": dict(use=host_use + rt_use, includes="tests plugin dsp"),
        "test_soak": dict(use=host_use + rt_use, includes="tests plugin dsp"),
        "test_input_faults": dict(use=host_use + rt_use, includes="tests plugin dsp"),
        "test_state_faults": dict(use=host_use + rt_use, includes="tests plugin dsp"),
        "test_inline_display": dict(use=host_use + rt_use, includes="tests plugin dsp"),
        "test_cli": dict(defines=[VERSION_DEFINE]),
    }
    # What the test programs share (tests/support/test_support.h): every one links it.
    bld.stlib(source=bld.path.ant_glob("tests/support/*.c"), target="stride_test_support",
              includes="tests/support", export_includes="tests/support", use=["CMOCKA"])
    for src in bld.path.ant_glob("tests/test_*.c"):
        name = os.path.splitext(src.name)[0]
        kw = dict(includes="tests", use=cli_use + ["CMOCKA"])
        kw.update(test_extra.get(name, {}))
        kw["use"] = ["stride_test_support"] + kw["use"]
        bld.program(source=[src], target="tests/" + name, install_path=None, **kw)

    for src in bld.path.ant_glob("bench/bench_*.c"):
        name = os.path.splitext(src.name)[0]
        bld.program(source=[src], target="bench/" + name, use=cli_use + ["LILV", "LV2"],
                    install_path=None)

    if not bld.variant:
        build_vad_helpers(bld)

    if bld.path.find_node("plugin/gate.c"):
        build_bundle(bld)

    # Helpers of the real-host tests (tests/hosts/test_* scripts run them).
    if not bld.variant and bld.env.LIB_JACK:
        for src in bld.path.ant_glob("tests/hosts/*.c"):
            name = os.path.splitext(src.name)[0]
            bld.program(source=[src], target="tests/hosts/" + name, use=["JACK", "SNDFILE"],
                        install_path=None)


def dsp_sources(bld, gemm):
    """dsp/*.c with one of its two matrix products (dsp/gemm.h): gemm_blas.c
    (OpenBLAS) for the CLI and the tests, gemm_rt.c (plain C, no threads or
    locks) for the plugins and the fuzz targets."""
    other = {"gemm_blas.c": "gemm_rt.c", "gemm_rt.c": "gemm_blas.c"}[gemm]
    return [n for n in bld.path.ant_glob("dsp/*.c") if n.name != other]


def build_vad_helpers(bld):
    """The baseline detectors the gate benchmark (bench/gate_real.py) runs beside
    Stride Gate: <build>/bench/vad_webrtc (WebRTC's VAD) and vad_speex (speexdsp's
    speech probability). Not bench_*: ./waf bench runs them through the script."""
    bld.objects(source="bench/vad_input.c", target="vad_input", includes="bench",
                use=["SNDFILE", "M"])
    bld.program(source="bench/vad_speex.c", target="bench/vad_speex", includes="bench",
                use=["vad_input", "SPEEXDSP", "SNDFILE", "M"], install_path=None)
    bld.program(features="cxx cxxprogram", source="bench/vad_webrtc.cpp",
                target="bench/vad_webrtc", includes="bench",
                use=["vad_input", "WEBRTC", "SNDFILE", "M"], install_path=None)


def build_fuzz(bld):
    """The fuzz targets <build>/fuzz/fuzz/fuzz_*: each fuzz/fuzz_NAME.c with the dsp
    library as the plugins build it (no OpenBLAS: its threads and uninstrumented
    code only slow libFuzzer down)."""
    if bld.env.FUZZ_MISSING:
        return
    rt_use = ["CJSON", "M"]
    bld.stlib(source=dsp_sources(bld, "gemm_rt.c"), target="stride_dsp_fuzz", includes="dsp",
              export_includes="dsp", use=rt_use)
    for src in bld.path.ant_glob("fuzz/fuzz_*.c"):
        bld.program(source=[src], target="fuzz/" + os.path.splitext(src.name)[0],
                    use=["stride_dsp_fuzz"] + rt_use, linkflags=FUZZ_LINKFLAGS,
                    install_path=None)


# The bundle's Turtle files (ttl/NAME.ttl in the repository, each).
TTL_GENERATED = ("gate", "genre")
TTL_BY_HAND = ("manifest", "stride", "presets")


def lv2_bundle_dir(bld):
    """Where ./waf install puts stride.lv2: ~/.lv2 with --lv2-user, else LIBDIR/lv2."""
    if bld.env.LV2_USER:
        return os.path.join(os.path.expanduser("~"), ".lv2", "stride.lv2")
    return "${LIBDIR}/lv2/stride.lv2"


def build_bundle(bld):
    """The LV2 bundle <build>/stride.lv2: gate.so (Stride Gate mono and stereo),
    genre.so (Stride Genre), the models and the Turtle (ttl/).

    The plugins link their own build of the dsp library with gemm_rt.c instead
    of gemm_blas.c, so no OpenBLAS (it starts threads and takes locks; the
    streaming engine has its own kernels), compiled with hidden visibility:
    lv2_descriptor is the only symbol a plugin exports."""
    rt_use = ["CJSON", "M"]
    hidden = ["-fvisibility=hidden"]
    bld.stlib(source=dsp_sources(bld, "gemm_rt.c"), target="stride_dsp_rt", includes="dsp", export_includes="dsp",
              cflags=hidden, use=rt_use)
    bundle = lv2_bundle_dir(bld)
    install = not bld.variant
    plugin_env = bld.env.derive()
    plugin_env.cshlib_PATTERN = "%s.so"  # LV2 binaries have no lib prefix
    # every symbol resolved at link time (not with ASan: its runtime provides some).
    # -z nodelete: a host's dlclose keeps the binary, and with it cairo and
    # pixman, loaded: their load-time set-up would otherwise be lost (leaked)
    # at every unload, as hosts that scan plugins load and unload them often.
    defs = ["-Wl,-z,nodelete"] + ([] if bld.variant else ["-Wl,-z,defs"])
    for name in ("gate", "genre"):
        bld.shlib(source=["plugin/%s.c" % name, "plugin/plugin_base.c", "plugin/model_loader.c",
                          "plugin/display.c"],
                  target="stride.lv2/" + name, includes="plugin dsp", env=plugin_env,
                  use=["stride_dsp_rt", "LV2", "CAIRO"] + rt_use, cflags=hidden, linkflags=defs,
                  install_path=bundle if install else None)

    # The small LV2 host the plugin tests share.
    bld.stlib(source="tests/lv2_host.c", target="stride_lv2_host", includes="tests plugin",
              export_includes="tests plugin", use=["LILV", "LV2"])

    # Runs a model file in a plugin through the test host (tests/scripts/ use it).
    if not bld.variant:
        bld.program(source="tests/tools/plugin_run_model.c", target="tests/tools/plugin_run_model",
                    includes="tests plugin dsp", use=["stride_lv2_host", "LILV", "LV2"],
                    install_path=None)

    # Build tools (tools/, not installed): the Turtle generator and the placeholder models.
    for tool in ("ttl_gen", "placeholder_model"):
        bld.program(source="tools/%s.c" % tool, target="tools/stride_" + tool,
                    includes="plugin dsp", use=["stride_dsp_rt"] + rt_use, install_path=None)

    # The shipped models (trained by the recipes in models/); a placeholder
    # network with random weights stands in while one is missing.
    models = []
    for kind in ("gate", "genre"):
        target = "stride.lv2/%s.safetensors" % kind
        shipped = bld.path.find_node("models/%s.safetensors" % kind)
        if shipped:
            bld(rule="cp ${SRC} ${TGT}", source=shipped, target=target)
        else:
            if not bld.variant:
                Logs.warn("models/%s.safetensors is missing: the bundle gets a PLACEHOLDER "
                          "%s model with random weights" % (kind, kind))
            tool = bld.path.find_or_declare("tools/stride_placeholder_model")
            bld(rule="${SRC[0].abspath()} %s ${TGT}" % kind, source=[tool], target=target)
        models.append(bld.path.find_or_declare(target))

    # The Turtle (ttl/): what follows the code is generated from the tables
    # (tools/ttl_gen.c; checked-in copies in ttl/ that test_ttl compares), what is
    # written by hand is copied as it is.
    generated = ["stride.lv2/%s.ttl" % n for n in TTL_GENERATED]
    gen = bld.path.find_or_declare("tools/stride_ttl_gen")
    bld(rule="${SRC[0].abspath()} ${TGT[0].parent.abspath()} %s ${SRC[1].abspath()} "
             "${SRC[2].abspath()}" % LV2_VERSION,
        source=[gen] + models, target=generated)
    for name in TTL_BY_HAND:
        bld(rule="cp ${SRC} ${TGT}", source="ttl/%s.ttl" % name,
            target="stride.lv2/%s.ttl" % name)
    ttl = generated + ["stride.lv2/%s.ttl" % n for n in TTL_BY_HAND]
    if install:
        bld.install_files(bundle, [bld.path.find_or_declare(t) for t in ttl] + models)


class TestContext(BuildContext):
    """Build, then run every test program on both variants, then the scripted tests."""
    cmd = "test"
    fun = "build"

    def execute(self):
        BuildContext.execute(self)
        if not self.env.NO_ASAN:
            bld = AsanBuild()
            bld.options = self.options
            bld.execute()
        only = Options.options.only
        if not only or any(only in label for label in fuzz_labels(self)):
            bld = FuzzBuild()
            bld.options = self.options
            bld.execute()
        run_suite(self)


class AsanBuild(BuildContext):
    cmd = "_build_asan_for_test"
    fun = "build"
    variant = "asan"


class FuzzBuild(BuildContext):
    cmd = "_build_fuzz_for_test"
    fun = "build"
    variant = "fuzz"


class FuzzContext(BuildContext):
    """Build the fuzz targets with clang (libFuzzer, ASan, UBSan) and run each for
    --fuzz-seconds (60); fails on any crash, leak, timeout, out-of-memory or
    sanitizer report. The corpora grow in .fuzz/ (git-ignored) from run to run."""
    cmd = "fuzz"
    fun = "build"
    variant = "fuzz"

    def execute(self):
        BuildContext.execute(self)
        seconds = Options.options.fuzz_seconds or FUZZ_TEST_SECONDS
        failed = []
        for label, argv in fuzz_runs(self, seconds):
            Logs.pprint("CYAN", "== %s: %d s" % (label, seconds))
            t0 = time.time()
            rc = subprocess.call(argv, cwd=self.path.abspath(), env=_test_env(self))
            ok = rc == 0
            Logs.pprint("GREEN" if ok else "RED", "%s %s (%.0f s)" % ("PASS" if ok else "FAIL",
                                                                      label, time.time() - t0))
            if not ok:
                failed.append(label)
        if failed:
            self.fatal("failed: " + ", ".join(failed) + " (inputs that crashed: .fuzz/artifacts/)")


def fuzz_labels(bld):
    return ["fuzz/" + os.path.splitext(n.name)[0] for n in bld.path.ant_glob("fuzz/fuzz_*.c")]


def fuzz_runs(bld, seconds):
    """(label, argv) for each fuzz target: its corpus in .fuzz/corpus/NAME (kept),
    fresh seeds in .fuzz/seeds/NAME (fuzz/make_seeds.py), the committed inputs
    that once crashed it (tests/data/fuzz_regressions/NAME/), crashing inputs
    saved in .fuzz/artifacts/NAME/. When clang or libFuzzer was missing at configure
    time, each run is a command that fails saying which package to install."""
    top = bld.path.abspath()
    fuzz_env = bld.all_envs.get("fuzz") or bld.env
    missing = fuzz_env.FUZZ_MISSING
    work = os.path.join(top, ".fuzz")
    if not missing:
        seeds = os.path.join(work, "seeds")
        subprocess.check_call(bld.env.SYSPYTHON + [os.path.join(top, "fuzz", "make_seeds.py"),
                                                   top, seeds])
    base = os.path.join(bld.out_dir, "fuzz", "fuzz")
    runs = []
    for label in fuzz_labels(bld):
        name = label.split("/")[1]
        short = name[len("fuzz_"):]
        if missing:
            runs.append((label, [sys.executable, "-c", "import sys; sys.exit(sys.argv[1])",
                                 "%s: cannot build the fuzz targets: %s" % (label, missing)]))
            continue
        corpus = os.path.join(work, "corpus", short)
        artifacts = os.path.join(work, "artifacts", short)
        for d in (corpus, artifacts):
            os.makedirs(d, exist_ok=True)
        argv = [os.path.join(base, name), "-max_total_time=%d" % seconds, "-timeout=10",
                "-rss_limit_mb=2048", "-malloc_limit_mb=1024", "-print_final_stats=1",
                "-artifact_prefix=%s/" % artifacts]
        dictionary = os.path.join(top, "fuzz", short + ".dict")
        if os.path.exists(dictionary):
            argv.append("-dict=" + dictionary)
        inputs = [corpus, os.path.join(seeds, short)]
        # Inputs that once crashed this target: replayed first on every run.
        regressions = os.path.join(top, "tests", "data", "fuzz_regressions", short)
        if os.path.isdir(regressions):
            inputs.append(regressions)
        runs.append((label, argv + inputs))
    return runs


class BenchContext(BuildContext):
    """Build, then run the benchmarks; they print numbers, they do not pass or fail."""
    cmd = "bench"
    fun = "build"

    def execute(self):
        BuildContext.execute(self)
        for node in sorted(self.path.get_bld().ant_glob("bench/bench_*", excl=["**/*.o"]),
                           key=lambda n: n.name):
            if os.access(node.abspath(), os.X_OK):
                Logs.pprint("CYAN", "== %s" % node.name)
                subprocess.call([node.abspath()], cwd=self.path.abspath())
        # Every gate side by side on the real-recording test set (skips, saying so,
        # when models/data/real/gate_real_test has not been built).
        Logs.pprint("CYAN", "== gate_real.py")
        subprocess.call(self.env.SYSPYTHON + [os.path.join("bench", "gate_real.py"), "--build",
                                              self.path.get_bld().abspath()],
                        cwd=self.path.abspath())
        # The shipped genre model on the real-music test set (models/recipes/real_music.py builds it).
        Logs.pprint("CYAN", "== genre_real.py")
        music = os.path.join("models", "data", "music", "genre_real_test")
        if os.path.isdir(os.path.join(self.path.abspath(), music)):
            subprocess.call(self.env.SYSPYTHON + [os.path.join("bench", "genre_real.py"),
                                                  os.path.join("models", "genre.safetensors"), music,
                                                  "--build", self.path.get_bld().abspath()],
                            cwd=self.path.abspath())
        else:
            print("skipped: no %s (models/recipes/real_music.py builds it)" % music)


def _test_env(bld):
    env = dict(os.environ)
    env["STRIDE_SRC"] = bld.path.abspath()
    env["STRIDE_BUILD"] = bld.path.get_bld().abspath()
    env["STRIDE_PYTHON"] = bld.env.SYSPYTHON[0]
    # One BLAS thread in tests: deterministic and cheap on a 2-core machine.
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


def run_suite(bld):
    """Runs every test program; prints one line each and the total."""
    only = Options.options.only
    top = bld.path.abspath()
    base = bld.path.get_bld().abspath()
    env = _test_env(bld)
    runs = []
    variants = [("", base)]
    if not bld.env.NO_ASAN:
        variants.append(("asan", os.path.join(base, "asan")))
    tdir = os.path.join(base, "tests")
    tests = sorted(p for p in os.listdir(tdir)
                   if p.startswith("test_") and "." not in p
                   and os.path.isfile(os.path.join(tdir, p)) and os.access(os.path.join(tdir, p), os.X_OK))
    for name, dirpath in variants:
        for t in tests:
            if only and only not in t:
                continue
            runs.append(("%s%s" % (t, " [asan]" if name else ""),
                         [os.path.join(dirpath, "tests", t)]))
    # valgrind over the plain build of the core tests (the PyTorch one runs Python).
    if bld.env.VALGRIND:
        for t in tests:
            if only and only not in t:
                continue
            if t in ("test_torch_reference",):
                continue
            runs.append(("%s [valgrind]" % t,
                         bld.env.VALGRIND + ["-q", "--error-exitcode=99", "--leak-check=full",
                                             "--errors-for-leak-kinds=definite",
                                             os.path.join(base, "tests", t)]))
    # The fuzz targets, a short run each (./waf fuzz runs them longer).
    if not only or any(only in label for label in fuzz_labels(bld)):
        for label, argv in fuzz_runs(bld, Options.options.fuzz_seconds or FUZZ_TEST_SECONDS):
            if not only or only in label:
                runs.append((label, argv))
    # Scripted tests, executables tests/<folder>/test_*, run once: real hosts
    # (jalv, Ardour) in hosts/, the Python tools in models/ in scripts/.
    for folder in ("hosts", "scripts"):
        hdir = os.path.join(top, "tests", folder)
        if not os.path.isdir(hdir):
            continue
        for p in sorted(os.listdir(hdir)):
            path = os.path.join(hdir, p)
            label = folder + "/" + p
            if (p.startswith("test_") and not p.endswith((".c", ".h", ".lua", ".ttl"))
                    and os.path.isfile(path) and os.access(path, os.X_OK)
                    and (not only or only in label)):
                runs.append((label, [path]))
    passed, failed = 0, []
    for label, argv in runs:
        t0 = time.time()
        logpath = os.path.join(base, "tests", label.replace(" ", "_").replace("[", "")
                               .replace("]", "") + ".log")
        os.makedirs(os.path.dirname(logpath), exist_ok=True)
        with open(logpath, "w") as log:
            env_run = dict(env)
            if "[valgrind]" in label:
                env_run["STRIDE_UNDER_VALGRIND"] = "1"
            rc = subprocess.call(argv, cwd=top, env=env_run, stdout=log, stderr=subprocess.STDOUT)
        dt = time.time() - t0
        if rc == 0:
            passed += 1
            Logs.pprint("GREEN", "PASS %-44s %6.1fs" % (label, dt))
        else:
            failed.append(label)
            Logs.pprint("RED", "FAIL %-44s %6.1fs  (exit %d, log: %s)" % (label, dt, rc, logpath))
            with open(logpath) as log:
                tail = log.read().splitlines()[-40:]
            for line in tail:
                Logs.pprint("NORMAL", "    " + line)
    print("%d passed, %d failed" % (passed, len(failed)))
    if failed:
        bld.fatal("failed: " + ", ".join(failed))
