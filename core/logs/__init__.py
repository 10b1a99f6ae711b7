"""Text logs (CMTrace format: IntuneManagementExtension, AppWorkload, AgentExecutor)."""
