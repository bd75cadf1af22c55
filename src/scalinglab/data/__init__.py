"""scalinglab.data"""
