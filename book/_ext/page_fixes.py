"""Two small fixes to the HTML pages of the Jupyter Book 1.x stack, found by ci/check_browser.py.

* sphinx-thebe 0.3.1 can register its inline configuration script twice, and the second
  ``const THEBE_JS_URL = ...`` is a SyntaxError in the browser: drop repeated scripts.
* pydata-sphinx-theme logs ``Got invalid theme mode`` when no default mode is set: set "auto".

And one for reading offline: when ``ci/fetch_mathjax.py`` has put MathJax into
``book/_mathjax/mathjax/``, the pages load it from the built ``_static/mathjax/`` instead of the CDN.
"""
from pathlib import Path


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


def _local_mathjax(app, config):
    local = Path(app.srcdir) / "_mathjax"
    if (local / "mathjax" / "tex-mml-chtml.js").exists():
        config.html_static_path = [*config.html_static_path, str(local)]  # copied, never listed as scripts
        config.mathjax_path = "mathjax/tex-mml-chtml.js"  # relative: under the built _static/


def setup(app):
    app.connect("config-inited", _local_mathjax)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
