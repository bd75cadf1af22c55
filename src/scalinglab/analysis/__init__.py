"""scalinglab.analysis"""
