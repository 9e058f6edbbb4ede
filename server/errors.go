package server

import (
	"encoding/json"
	"net/http"

	"benchtop/openai"
)

// apiError is a failure answered with OpenAI's error body.
type apiError struct {
	status int
	typ    string // vLLM's type names: BadRequestError, NotFoundError, ...
	param  string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(param, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "BadRequestError", param: param, msg: msg}
}

// writeError answers with {"error": {"message", "type", "param", "code"}}.
func writeError(w http.ResponseWriter, e *apiError) {
	body := openai.ErrorBody{Error: openai.ErrorDetail{Message: e.msg, Type: e.typ}}
	if e.param != "" {
		p := e.param
		body.Error.Param = &p
	}
	body.Error.Code, _ = json.Marshal(e.status)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
