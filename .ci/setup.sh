#!/usr/bin/env bash
# One-shot, idempotent set-up on a fresh Debian machine: system packages, .venv/, the project.
# Re-running is cheap: the pip step is skipped while pyproject.toml and this script are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg espeak-ng fonts-dejavu-core chromium tesseract-ocr melt)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || { echo "==> creating .venv"; "$PY" -m venv .venv; }
stamp=.venv/.animstudio-setup
want=$(cat pyproject.toml .ci/setup.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q -U pip wheel setuptools
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "==> NVIDIA GPU found: CUDA torch + GPU extras"
    .venv/bin/python -m pip install -q "torch==2.13.0"
    EXTRAS="dev,gpu,ray"
  else
    # The CPU wheel (pip finds it locally); an unpinned torch would pull GBs of CUDA packages.
    echo "==> no NVIDIA GPU: CPU torch"
    .venv/bin/python -m pip install -q "torch==2.13.0"
    EXTRAS="dev,ray"
  fi
  # llama-cpp-python builds from source (~10 min once). Built for a portable x86-64 baseline (AVX2,
  # no AVX-512/AMX): a -march=native wheel dies with SIGILL on machines or sandboxes whose CPU
  # flags differ from the build machine's. The wheel is kept in a cache folder keyed by the flags.
  LLAMA_VERSION=0.3.36
  LLAMA_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  if [ "$(uname -m)" != "x86_64" ]; then LLAMA_FLAGS="-DGGML_NATIVE=OFF"; fi
  wheel_dir="${XDG_CACHE_HOME:-$HOME/.cache}/animstudio-wheels/$(echo "$LLAMA_VERSION $LLAMA_FLAGS" | sha256sum | cut -c1-12)"
  if ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "==> building llama-cpp-python $LLAMA_VERSION (portable CPU build, ~10 minutes once)"
    mkdir -p "$wheel_dir"
    CMAKE_ARGS="$LLAMA_FLAGS" .venv/bin/python -m pip wheel -q --no-deps --no-cache-dir -w "$wheel_dir" \
      "llama-cpp-python==$LLAMA_VERSION"
  fi
  .venv/bin/python -m pip install -q --no-deps --force-reinstall "$wheel_dir"/llama_cpp_python-*.whl
  echo "==> pip install -e .[$EXTRAS]"
  .venv/bin/python -m pip install -q -e ".[$EXTRAS]"
  # insightface (code MIT; its model packs are non-commercial, so it is only used when
  # dataset.insightface_root is set): its wheel requires opencv-python, a second OpenCV beside the
  # headless one, so it comes without dependencies; the ones it imports are in pyproject.toml.
  .venv/bin/python -m pip install -q --no-deps "insightface==2.1"
  n_cv=$(.venv/bin/python -m pip list 2>/dev/null | grep -ciE '^opencv-(contrib-)?python(-headless)? ' || true)
  if [ "$n_cv" != "1" ]; then
    echo "expected exactly one OpenCV distribution, found $n_cv" >&2; exit 1
  fi
  .venv/bin/python -c "import cv2, torch; assert cv2.__version__.startswith('4'), cv2.__version__; print('cv2', cv2.__version__, '| torch', torch.__version__)"
  echo "$want" > "$stamp"
fi
