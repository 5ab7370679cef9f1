"""The data a finding reads: training tokens in training order (`tokens`), the authors' reference files, fetched
and hash-checked (`reference`), and the names the authors' files use (`names`)."""
