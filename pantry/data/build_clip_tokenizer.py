"""Build pantry/data/clip_tokenizer/ from the MIT-licensed BPE vocabulary in open_clip.

The files it writes (vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json)
are the layout ``transformers.CLIPTokenizer.from_pretrained`` reads, so the renderer and
``pantry.recipes.tokens`` share one offline copy of the real CLIP vocabulary.

Usage (needs PyPI only, once; the output is committed):

    pip download --no-deps open-clip-torch==3.3.0 -d /tmp/openclip
    python -m pantry.data.build_clip_tokenizer /tmp/openclip/open_clip_torch-3.3.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import zipfile
from pathlib import Path

OUT_DIR = Path(__file__).parent / "clip_tokenizer"
VOCAB_MEMBER = "open_clip/bpe_simple_vocab_16e6.txt.gz"
VOCAB_SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"

# CLIP keeps 49152 - 256 - 2 merges (after the "#version" line): the same slice OpenAI's and
# open_clip's SimpleTokenizer take, which gives the 49408-entry vocabulary SD text encoders use.
N_MERGES = 49152 - 256 - 2
BOS, EOS = "<|startoftext|>", "<|endoftext|>"

TOKENIZER_CONFIG = {
    "tokenizer_class": "CLIPTokenizer",
    "model_max_length": 77,
    "do_lower_case": True,
    "errors": "replace",
    "add_prefix_space": False,
    "bos_token": BOS,
    "eos_token": EOS,
    "unk_token": EOS,
    "pad_token": EOS,
}
SPECIAL_TOKENS_MAP = {"bos_token": BOS, "eos_token": EOS, "unk_token": EOS, "pad_token": EOS}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="open_clip_torch-*.whl from pip download")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    build(args.wheel, args.out)
    print(f"wrote {args.out}")


def build(wheel: Path, out: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        packed = zf.read(VOCAB_MEMBER)
        license_text = _read_license(zf)
    digest = hashlib.sha256(packed).hexdigest()
    if digest != VOCAB_SHA256:
        raise SystemExit(f"{wheel}: {VOCAB_MEMBER} has sha256 {digest}, expected {VOCAB_SHA256}")

    lines = gzip.decompress(packed).decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1 : N_MERGES + 1]]

    byte_chars = list(bytes_to_unicode().values())
    tokens = byte_chars + [c + "</w>" for c in byte_chars]
    tokens += ["".join(pair) for pair in merges]
    tokens += [BOS, EOS]
    vocab = {token: index for index, token in enumerate(tokens)}
    assert len(vocab) == 49408, len(vocab)

    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    merges_text = "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges)
    (out / "merges.txt").write_text(merges_text, encoding="utf-8")
    (out / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG, indent=2) + "\n")
    (out / "special_tokens_map.json").write_text(json.dumps(SPECIAL_TOKENS_MAP, indent=2) + "\n")
    (out / "LICENSE").write_text(license_text, encoding="utf-8")
    (out / "NOTICE").write_text(
        "vocab.json and merges.txt are derived from bpe_simple_vocab_16e6.txt.gz in\n"
        f"{wheel.name} (open_clip, https://github.com/mlfoundations/open_clip),\n"
        f"sha256 {VOCAB_SHA256}, distributed under the MIT licence in LICENSE.\n"
        "Built by pantry/data/build_clip_tokenizer.py.\n"
    )


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from each byte to a printable character, in vocabulary order.

    Printable Latin-1 bytes map to themselves and come first; the other bytes follow in byte
    order, shifted to code points from 256 up. The vocabulary starts with these 256 characters.
    """
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    mapping = {b: chr(b) for b in printable}
    others = [b for b in range(256) if b not in mapping]
    mapping.update({b: chr(256 + n) for n, b in enumerate(others)})
    return mapping


def _read_license(zf: zipfile.ZipFile) -> str:
    for name in zf.namelist():
        if name.endswith(".dist-info/licenses/LICENSE") or name.endswith(".dist-info/LICENSE"):
            return zf.read(name).decode("utf-8")
    raise SystemExit("the wheel carries no LICENSE file")


if __name__ == "__main__":
    main()
