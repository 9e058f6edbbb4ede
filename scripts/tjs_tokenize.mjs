// Record transformers.js ids (its @huggingface/tokenizers) in the format of
// scripts/hf_tokenize.py, to look for bugs in benchtop's tokenizer reader
// on a machine without Python `tokenizers`. Close to Hugging Face but not
// the reference: where the two disagree, HF's Rust code decides.
//
//   npm install --prefix /tmp/tjs --ignore-scripts @huggingface/transformers
//   NODE_PATH=/tmp/tjs/node_modules node scripts/tjs_tokenize.mjs \
//       tokenizer/testdata/corpus.json /tmp/tjs_ids.json qwen3=PATH ...
//   BENCHTOP_HF_IDS=/tmp/tjs_ids.json go test ./tokenizer -run Reference
import { createRequire } from 'module';
import crypto from 'crypto';
import fs from 'fs';
import path from 'path';

const require = createRequire(path.join(process.env.NODE_PATH || process.cwd(), 'x.js'));
const tokPath = require.resolve('@huggingface/tokenizers');
const mod = await import(tokPath);
const Tokenizer = mod.Tokenizer ?? mod.default.Tokenizer;

const [corpusPath, outPath, ...files] = process.argv.slice(2);
const sha = (p) => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
const corpus = JSON.parse(fs.readFileSync(corpusPath, 'utf8'));
const out = { tool: 'transformers.js tokenizers', corpus_sha256: sha(corpusPath), tokenizers: {} };
for (const item of files) {
  const [name, p] = item.split('=');
  const tok = new Tokenizer(JSON.parse(fs.readFileSync(p, 'utf8')), {});
  const rec = { sha256: sha(p), encode: [], encode_special: [], decode: [], decode_skip_special: [] };
  for (const text of corpus) {
    const special = tok.encode(text, { add_special_tokens: true }).ids;
    rec.encode.push(tok.encode(text, { add_special_tokens: false }).ids);
    rec.encode_special.push(special);
    const dec = (skip) => special.length === 0 ? '' :
      tok.decode(special, { skip_special_tokens: skip, clean_up_tokenization_spaces: false });
    rec.decode.push(dec(false));
    rec.decode_skip_special.push(dec(true));
  }
  out.tokenizers[name] = rec;
  console.error(`${name}: ${corpus.length} strings`);
}
fs.writeFileSync(outPath, JSON.stringify(out) + '\n');
