"""scalinglab.laws"""
