"""What a finding states: result folders and manifests, claims and verdicts, intervals, curve shapes, plots and
the numbers for papers."""
