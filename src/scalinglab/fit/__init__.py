"""scalinglab.fit"""
