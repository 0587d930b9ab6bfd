"""Named multi-step plans (YAML templates) and the plan model they instantiate."""
from workflows.loader import Workflow, WorkflowError, all_workflows, get_workflow, load_workflow
from workflows.plan import Plan, Step, lookup, resolve_refs

__all__ = ["Plan", "Step", "Workflow", "WorkflowError", "all_workflows", "get_workflow", "load_workflow",
           "lookup", "resolve_refs"]
