"""配置文件 (推荐这种方式): a plain module, imported where it is needed.

``examples/config_module.py`` and ``examples/routing.py`` do ``import config`` and use
``config.port``. Nothing in squall is involved.
"""

port = 8800
