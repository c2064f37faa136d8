"""Two small fixes to the HTML pages of the Jupyter Book 1.x stack, found by ci/check_browser.py.

* sphinx-thebe 0.3.1 can register its inline configuration script twice, and the second
  ``const THEBE_JS_URL = ...`` is a SyntaxError in the browser: drop repeated scripts.
* pydata-sphinx-theme logs ``Got invalid theme mode`` when no default mode is set: set "auto".
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts:
        seen, unique = set(), []
        for js in scripts:
            name = getattr(js, "filename", js) or ""  # an inline script may carry None or ""
            key = (str(name), tuple(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
            if key not in seen:
                seen.add(key)
                unique.append(js)
        scripts[:] = unique
    if not context.get("default_mode"):
        context["default_mode"] = "auto"


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
