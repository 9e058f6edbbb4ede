package tokenizer

import "errors"

// Sentinel errors; every error this package returns wraps one of them, so
// callers can tell a broken file from a file that is fine but uses a part
// this reader does not implement.
var (
	// ErrMalformed: the file is not a valid tokenizer (bad JSON, a missing
	// or mistyped field, a merge naming a token the vocabulary lacks...).
	ErrMalformed = errors.New("malformed tokenizer")
	// ErrUnsupported: the file is valid but uses a model, normalizer,
	// pre-tokenizer, post-processor or decoder this reader does not have.
	ErrUnsupported = errors.New("unsupported tokenizer component")
	// ErrInvalidText: Encode was given text that is not valid UTF-8, or
	// text containing a character the vocabulary cannot express (no unknown
	// token and no byte fallback).
	ErrInvalidText = errors.New("text cannot be tokenized")
	// ErrUnknownID: Decode was given an id that is neither in the model's
	// vocabulary nor an added token.
	ErrUnknownID = errors.New("unknown token id")
)
