"""scalinglab.io"""
