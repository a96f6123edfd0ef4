"""`python -m llama_cpp.server` with llama.cpp's extra weight buffers turned off.

llama.cpp repacks weights into "extra buffer types" for the CPU it runs on (CPU_REPACK, and AMX
on Xeons that have it). On a CPU with AMX (flags amx_tile, amx_int8), llama-cpp-python 0.3.36
built from source segfaults on its first completion with SmolLM2's Q4_1 weights in the AMX
buffer; llama.cpp's own llama-server does the same unless given `--no-repack`. llama-cpp-python's
server has no such option, but every model it loads starts from `llama_model_default_params()`,
whose `use_extra_bufts` is what `--no-repack` clears. The server is the real one, unchanged; only
that default differs. A 135M model loses nothing measurable by running unpacked.
"""

import runpy

import llama_cpp.llama_cpp as native

_defaults = native.llama_model_default_params


def _no_repack():
    params = _defaults()
    params.use_extra_bufts = False
    return params


native.llama_model_default_params = _no_repack

if __name__ == "__main__":
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
