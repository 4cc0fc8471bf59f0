"""(placeholder being written: activation_loss family)"""
TENSOR_METHODS: dict = {}
FUNCTIONAL: dict = {}
TOPLEVEL: dict = {}
