"""(placeholder being written: conv_pool family)"""
TENSOR_METHODS: dict = {}
FUNCTIONAL: dict = {}
TOPLEVEL: dict = {}
