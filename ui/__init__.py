"""The web app (`ui.app.build_app`, `ui.server.launch`).

Gradio reads these at import, so they are set (unless the environment says otherwise) before any
module of this package imports it: no usage analytics, no Hugging Face Hub calls, no telemetry.
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
