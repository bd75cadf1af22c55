"""scalinglab.plot"""
