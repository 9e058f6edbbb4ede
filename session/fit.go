package session

import "benchtop/workloads"

// MaxModelLen is the tokens a sequence may hold under the current
// settings. In-process: max_model_len when set and smaller than the
// model's max_position_embeddings, else the latter. Remote: the smallest
// max_model_len the servers' /v1/models listed, or 0 when none did (the
// servers then judge each prompt themselves).
func (s *Session) MaxModelLen() int {
	if len(s.replicas) == 0 {
		n := 0
		for _, rt := range s.remotes {
			if m := rt.target().MaxModelLen; m > 0 && (n == 0 || m < n) {
				n = m
			}
		}
		return n
	}
	n := s.replicas[0].model.Cfg.MaxPositions
	if c := s.Status().Config.MaxModelLen; c > 0 && c < n {
		n = c
	}
	return n
}

// PromptTokens is the length in tokens of a spec's prompt as Requests
// builds it: the text tokenized (the model's prefix included), or the
// prefix and the synthetic length.
func (v Vocab) PromptTokens(sp workloads.Spec) (int, error) {
	if sp.Prompt != "" || sp.PromptLen == 0 {
		ids, err := v.promptIDs(sp, 0, 0)
		return len(ids), err
	}
	return len(v.Prefix) + sp.PromptLen, nil
}

// CheckFit checks specs against MaxModelLen before anything is sent (a
// dataset up front): the error names the line of the first prompt that
// cannot fit and counts the rest. Nothing is checked when the length is
// not known.
func (v Vocab) CheckFit(specs []workloads.Spec) error {
	if v.MaxModelLen <= 0 {
		return nil
	}
	return workloads.CheckFit(specs, v.MaxModelLen, v.PromptTokens)
}
