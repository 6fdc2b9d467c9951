"""佐证材料: evidence files of tasks, stored by SHA-256 under data_dir/evidence, and the
per-indicator evidence binder (资料汇编) for reviewers."""
