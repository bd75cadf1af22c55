"""scalinglab.run"""
