// Package saliency computes attribution maps — where an image classifier
// looks — from its gradient graphs: the vanilla gradient (Simonyan et al.
// 2013), SmoothGrad (Smilkov et al. 2017), Integrated Gradients
// (Sundararajan et al. 2017) on any engine.Classifier, and Grad-CAM
// (Selvaraju et al. 2017) on one that can differentiate an internal feature
// map (engine.FeatureGradienter). It also measures how much of a map's mass
// falls inside an adversarial patch against the share of the image the patch
// covers: the patch "attracts attention" when the first exceeds the second.
package saliency
