"""Import every module that defines tables, so ``Base.metadata`` is complete wherever it is read
(migrations, the schema test, table truncation in tests). A feature adding a models module adds
one line here."""

from __future__ import annotations

import resonanz.accounts.models
import resonanz.analysis.models
import resonanz.audit.models
import resonanz.cases.care_settings_models
import resonanz.cases.models
import resonanz.cases.reply_models
import resonanz.cases.routing_models
import resonanz.cases.workflow_models
import resonanz.listening.alerts.models
import resonanz.listening.models
import resonanz.listening.rollup_models
import resonanz.mentions.models
import resonanz.notifications.models
import resonanz.reports.models
import resonanz.sources.models
import resonanz.worker.models  # noqa: F401  (register tables on the metadata)
