namespace PgDeploy.Migrations.PostProcessing;

/// Why a data step runs. Apply is the upgrade itself, inside the fence. Precompute runs it before the fence, while the
/// application still writes, on the schema before the upgrade: its transforms store their results aside, and the step's
/// own statements are skipped and its queries run read-only. Survey only counts what Precompute has left to do.
public enum StepMode { Apply, Precompute, Survey }
