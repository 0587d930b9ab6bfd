"""Planning: routing by meaning, workflow parameter filling, free plans, and the CoT/ToT/ReAct strategies."""
