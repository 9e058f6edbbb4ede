module benchtop

go 1.26

require (
	github.com/dlclark/regexp2/v2 v2.5.1
	github.com/tiktoken-go/tokenizer v0.10.0
)

require github.com/ebitengine/purego v0.11.3 // indirect
